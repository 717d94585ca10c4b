"""`qubrid-video emulator` as a user runs it: a subprocess printing its base URL, serving until SIGINT."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from ..media import probe
from ..processes import QUBRID_VIDEO, command


@contextmanager
def running(*args: str) -> Iterator[str]:
    """Start the command, yield the base URL from its first line, stop it with SIGINT."""
    argv = command("emulator", "--port", "0", *args)
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            yield process.stdout.readline().strip()
        finally:
            process.send_signal(signal.SIGINT)
            _, errors = process.communicate(timeout=30)
            assert process.returncode == 0, errors
            assert "stopped" in errors


def test_text_only_example_yields_a_playable_mp4(spec: dict[str, Any]) -> None:
    """The spec's "Text Only" example, sent as curl would, returns a URL to an MP4 of the requested shape."""
    example = spec["paths"]["/videos/generations"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    body = example["Text Only"]["value"]
    with running("--api-key", "sk-cli") as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v1")
        response = httpx.post(
            f"{base_url}/videos/generations", json=body, headers={"Authorization": "Bearer sk-cli"}, timeout=120
        )
        assert response.status_code == 200, response.text
        video = probe(httpx.get(response.json()["data"][0]["url"]).content)
    assert (video["width"], video["height"], video["fps"]) == (1280, 720, body["fps"])
    assert abs(video["duration"] - body["duration"]) < 0.1


def test_startup_faults_and_limits() -> None:
    """Start-up options queue faults and set per-key credits and allowed models."""
    args = ("--api-key", "sk-a", "--fault", "502:2", "--credits", "1", "--models", "p-video,p-pro",
            "--allowed-models", "p-video")  # fmt: skip
    with running(*args) as base_url:
        auth = {"Authorization": "Bearer sk-a"}
        url = f"{base_url}/videos/generations"
        body = {"model": "p-video", "duration": 1, "fps": 2, "resolution": "360p"}
        assert [httpx.post(url, json=body, headers=auth).status_code for _ in range(3)] == [502, 502, 200]
        assert httpx.post(url, json=body, headers=auth).status_code == 402
        assert httpx.post(url, json={**body, "model": "p-pro"}, headers=auth).status_code == 403


def test_bad_fault_kind_is_a_usage_error() -> None:
    """An unknown fault kind is refused with a clear message before anything listens."""
    result = subprocess.run(
        [QUBRID_VIDEO, "emulator", "--fault", "meteor"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "meteor" in result.stderr
