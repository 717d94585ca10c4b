"""`qubrid-video emulator` as a user runs it: a subprocess printing its base URL, serving until SIGINT."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

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
    # Five credits: one 1 s 720p draft (US$0.005 a second, 1 credit = US$0.001).
    args = ("--api-key", "sk-a", "--fault", "502:2", "--credits", "5", "--models", "p-video,p-pro",
            "--allowed-models", "p-video")  # fmt: skip
    with running(*args) as base_url:
        auth = {"Authorization": "Bearer sk-a"}
        url = f"{base_url}/videos/generations"
        body = {"model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": True}
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


def test_models_file_replaces_the_catalog(tmp_path: Path) -> None:
    """--models-file loads a catalog of one's own: here p-video loosened to 480p and a cheaper model added."""
    catalog = tmp_path / "models.yaml"
    catalog.write_text(
        "models:\n"
        "  p-video:\n"
        "    extends: p-video\n"
        "    resolution: {values: {480p: 480, 720p: 720}}\n"
        "    price: {per_second: {480p: 0.01, 720p: 0.02}, draft_per_second: {480p: 0.002, 720p: 0.005}}\n"
        "  p-lite:\n"
        "    extends: p-video\n",
        encoding="utf-8",
    )
    with running("--models-file", str(catalog)) as base_url:
        url = f"{base_url}/videos/generations"
        auth = {"Authorization": "Bearer sk-qubrid-emulator"}
        body = {"model": "p-video", "resolution": "480p", "duration": 1, "aspect_ratio": "1:1", "draft": True}
        response = httpx.post(url, json=body, headers=auth, timeout=60)
        assert response.status_code == 200, response.text
        video = probe(httpx.get(response.json()["data"][0]["url"]).content)
        assert (video["width"], video["height"]) == (480, 480)
        refused = httpx.post(url, json={**body, "resolution": "1080p"}, headers=auth, timeout=60)
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "resolution"
        assert "480p, 720p" in refused.json()["error"]["message"]
        assert httpx.post(url, json={**body, "model": "p-lite", "resolution": "720p"}, headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models-file", "{tmp}/missing.yaml"], "cannot read a model catalog"),
        (["--models-file", "{tmp}/bad.yaml"], "models.p-video.fps.default: 30"),
        (["--models", "p-video", "--models-file", "{tmp}/bad.yaml"], "not both"),
    ],
    ids=["missing", "invalid", "both"],
)
def test_bad_models_file_is_a_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    """A catalog that cannot be read or is invalid, or given with --models, is refused before anything listens."""
    (tmp_path / "bad.yaml").write_text("models: {p-video: {extends: p-video, fps: {default: 30}}}", encoding="utf-8")
    argv = [QUBRID_VIDEO, "emulator", *(a.format(tmp=tmp_path) for a in args)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    if "--models-file" in args and "--models" not in args:
        assert "--models-file" in result.stderr  # the option that gave the bad catalog is named
