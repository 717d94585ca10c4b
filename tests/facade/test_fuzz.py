"""Junk arguments from hypothesis: only documented exceptions, nothing sent, nothing written."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from qubrid_video import Qubrid, QubridError, Video
from qubrid_video_emulator import Emulator

from ..strategies import junk_download_kwargs, junk_generate_kwargs

ALLOWED = (TypeError, ValueError, QubridError)
INTERNAL = (AttributeError, KeyError, IndexError, UnboundLocalError, NameError, AssertionError)


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Emulator, Qubrid, Video]]:
    """One emulator, client and real video for every example."""
    with Emulator() as emulator, Qubrid(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        video = client.videos.generate(model="p-video", duration=1, aspect_ratio="1:1", draft=True)
        yield emulator, client, video


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kwargs=junk_generate_kwargs())
def test_generate_rejects_junk_without_sending(shared: tuple[Emulator, Qubrid, Video], kwargs: dict[str, Any]) -> None:
    """generate() with any junk argument raises TypeError, ValueError or QubridError, and sends nothing."""
    emulator, client, _ = shared
    before = len(emulator.requests())
    with pytest.raises(ALLOWED) as caught:
        client.videos.generate(**kwargs)
    assert not isinstance(caught.value, INTERNAL)
    assert len(emulator.requests()) == before


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=junk_download_kwargs(Path(os.environ.get("TMPDIR", "/tmp")) / "qubrid-fuzz-never"))
def test_download_rejects_junk_without_writing(shared: tuple[Emulator, Qubrid, Video], data: dict[str, Any]) -> None:
    """download() with any junk argument raises a documented error, fetches nothing, writes nothing."""
    emulator, _, video = shared
    before = len(emulator.downloads())
    with pytest.raises(ALLOWED) as caught:
        video.download(**data)
    assert not isinstance(caught.value, INTERNAL)
    assert len(emulator.downloads()) == before
    assert not (Path(os.environ.get("TMPDIR", "/tmp")) / "qubrid-fuzz-never").exists()
