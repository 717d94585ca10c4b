"""``qubrid-video batch`` against a fake API and CDN that misbehave at the socket level.

Each test runs the real command as a child process; the fake servers' recorded requests count the
generation requests it sent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from qubrid_video_emulator import Emulator

from ..hostile import hostile, raw_answer
from .test_batch import SMALL, _jobs, _last, _records, _run


def _video(url: str, *headers: str) -> bytes:
    """A generation's 200 answer carrying `url`."""
    body = json.dumps({"created": 1, "data": [{"url": url}]}).encode()
    return raw_answer("200 OK", body, "Content-Type: application/json", *headers)


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


@pytest.mark.parametrize(
    "path", ["v\x1b[31m.mp4", "v\n.mp4", "v\x7f.mp4", "v" * 65536], ids=["escape", "newline", "delete", "64KiB"]
)
def test_video_url_httpx_refuses_is_kept_and_reported(tmp_path: Path, path: str) -> None:
    """A 200 whose URL httpx refuses to fetch: the line is download_failed (URL, request id kept), with a summary."""
    url = f"http://127.0.0.1:9/{path}"
    jobs, out = _jobs(tmp_path, {"prompt": "a"}), tmp_path / "out"
    with hostile("canned", answer=_video(url, "x-request-id: req-1")) as (api, seen):
        for _ in range(2):  # the re-run meets the same record, and must not crash on it either
            result = _run(api, jobs, out)
            assert result.returncode == 11, result.stderr
            assert "Traceback" not in result.stderr
            assert "0 done, 0 skipped, 1 failed" in result.stdout
            assert "not a valid URL" in result.stdout  # the SDK's DownloadError, not a crash
            record = _last(out, 1)
            assert (record["status"], record["url"], record["request_id"]) == ("download_failed", url, "req-1")
        assert _posts(seen.requests) == 1


def test_redirect_loop_fails_its_line_while_the_others_finish(emulator: Emulator, tmp_path: Path) -> None:
    """A stored video whose CDN redirects forever fails its own line; lines generating meanwhile still finish."""
    out = tmp_path / "out"
    line = {"prompt": "stored", **SMALL}
    assert _run(emulator.base_url, _jobs(tmp_path, line), out, key=emulator.api_key).returncode == 0
    loop = raw_answer("307 Temporary Redirect", b"", "Location: /loop")
    with hostile("canned", answer=loop) as (cdn, _):
        stored = {**_records(out)[-1], "status": "generated", "url": f"{cdn}/loop"}
        with (out / "manifest.jsonl").open("a") as handle:  # as if it crashed before saving the video
            handle.write(json.dumps(stored) + "\n")
        (out / "line-0001.mp4").unlink()
        jobs = _jobs(tmp_path, line, {"prompt": "b", **SMALL}, {"prompt": "c", **SMALL})
        emulator.inject("slow", count=2, delay=2)  # still generating when line 1 fails
        for _ in range(2):
            result = _run(emulator.base_url, jobs, out, key=emulator.api_key)
            assert result.returncode == 11, result.stderr
            assert "Traceback" not in result.stderr
            assert "more than 10 redirects" in result.stdout
            assert [_last(out, n)["status"] for n in (1, 2, 3)] == ["download_failed", "done", "done"]
            assert _last(out, 1)["url"] == stored["url"]
            assert len(emulator.requests()) == 3


FORGED = "req-\x1b[31m\u2028qubrid-video: error: forged\u009b"
UNPRINTABLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # all but the newline ending each line


def test_server_text_is_escaped_in_the_summary(tmp_path: Path) -> None:
    """Request ids and URLs from the server reach the terminal on one line, their control characters escaped."""
    refused = json.dumps({"error": {"message": "no", "type": "invalid_request_error", "request_id": FORGED}}).encode()
    jobs, out = _jobs(tmp_path, {"prompt": "a"}, {"prompt": "b"}), tmp_path / "out"
    with (
        hostile("canned", answer=raw_answer("404 Not Found", b"")) as (cdn, _),
        hostile("canned", answer=[_video(f"{cdn}/v\u009b\u2028.mp4", f"x-request-id: {FORGED}"),
                                  raw_answer("400 Bad Request", refused, "Content-Type: application/json")]) as (api, _),
    ):  # fmt: skip
        result = _run(api, jobs, out, "--concurrency", "1")
    assert result.returncode == 11, result.stderr
    assert UNPRINTABLE.search(result.stdout + result.stderr) is None, result.stdout
    assert not any(line.startswith("qubrid-video: error: forged") for line in result.stdout.splitlines())
    assert result.stdout.count("req-\\x1b[31m\\u2028qubrid-video: error: forged\\x9b") == 2
    assert f"the video link has expired (HTTP 404): {cdn}/v%C2%9B%E2%80%A8.mp4" in result.stdout
    assert f"| video: {cdn}/v%C2%9B%E2%80%A8.mp4" in result.stdout
