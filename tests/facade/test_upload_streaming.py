"""Large uploads stream from disk: they arrive byte-identical and are never held whole in memory."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from pathlib import Path

import httpx
import pytest
from qubrid_video import BadRequestError, Qubrid

from ..emulator.test_emulator_cli import running

SIZE = 96 * 1024 * 1024


def test_large_upload_is_streamed_and_arrives_intact(tmp_path: Path) -> None:
    """A 96 MiB image_file reaches the server (in another process) intact; the client's peak stays small."""
    path = tmp_path / "big.png"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(SIZE // (1 << 20)):
            block = os.urandom(1 << 20)
            digest.update(block)
            out.write(block)
    with running("--api-key", "sk-big", "--max-body-mb", "200") as base_url:
        with Qubrid(api_key="sk-big", base_url=base_url) as client:
            tracemalloc.start()
            try:
                # Random bytes are no picture: the server says 400 after receiving all of them.
                with pytest.raises(BadRequestError, match="image_file"):
                    client.videos.generate(model="p-video", image=path)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        journal = httpx.get(base_url.removesuffix("/v1") + "/_emulator/journal").json()
    upload = journal["requests"][0]["files"]["image_file"]
    assert upload["size"] == SIZE
    assert upload["sha256"] == digest.hexdigest()
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MiB: the upload was buffered"
