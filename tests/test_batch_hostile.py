"""``qubrid-video batch`` against a fake API and CDN that misbehave at the socket level.

Each test runs the real command as a child process; the fake servers' recorded requests count the
generation requests it sent.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from .hostile import hostile, raw_answer
from .processes import command
from .test_batch import _jobs, _last


def _video(url: str, *headers: str) -> bytes:
    """A generation's 200 answer carrying `url`."""
    body = json.dumps({"created": 1, "data": [{"url": url}]}).encode()
    return raw_answer("200 OK", body, "Content-Type: application/json", *headers)


def _run(api: str, jobs: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QUBRID_API_KEY": "k", "QUBRID_BASE_URL": api}
    return subprocess.run(command("batch", str(jobs), "--out", str(out), *args), env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=120, check=False)  # fmt: skip


def _posts(requests: list[str]) -> int:
    return sum(1 for head in requests if head.startswith("POST "))


def test_status_in_a_content_range_is_not_an_expired_link(tmp_path: Path) -> None:
    """A resume answered 206 with ``Content-Range: bytes 0-1/2 HTTP 410`` is a failed download, never "expired"."""
    cut = b'HTTP/1.1 200 OK\r\nETag: "v1"\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12345'
    resumed = raw_answer("206 Partial Content", b"12", 'ETag: "v1"', "Content-Range: bytes 0-1/2 HTTP 410")
    jobs, out = _jobs(tmp_path, {"prompt": "a"}), tmp_path / "out"
    with (
        hostile("canned", answer=[cut, resumed]) as (cdn, _),
        hostile("canned", answer=_video(f"{cdn}/v")) as (api, seen),
    ):
        first = _run(api, jobs, out)
        assert first.returncode == 11, first.stderr
        assert "the server resumed at the wrong offset" in first.stdout
        assert "expired" not in first.stdout
        assert _last(out, 1)["status"] == "download_failed"
        again = _run(api, jobs, out, "--regenerate-expired")
        assert again.returncode == 11, again.stderr
        assert _posts(seen.requests) == 1  # the video was downloaded again, never paid for again
        assert _last(out, 1)["status"] == "download_failed"
