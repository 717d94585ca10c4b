"""The command never loses a paid video: destinations checked before paying, every later failure names it.

Each test runs the real `qubrid-video` command in a subprocess against the emulator, whose journal
proves how many generation requests were sent.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from qubrid_video_emulator import Emulator

from ..hostile import TRICKLE, hostile, raw_answer
from ..processes import QUBRID_VIDEO, command

SMALL = ["--duration", "1", "--aspect-ratio", "1:1"]


def _env(emulator: Emulator) -> dict[str, str]:
    return {**os.environ, "QUBRID_API_KEY": emulator.api_key, "QUBRID_BASE_URL": emulator.base_url}


def _run(emulator: Emulator, *args: str, max_file_size: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(*args, max_file_size=max_file_size), env=_env(emulator), capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def _save_command(stderr: str) -> list[str]:
    """The ready-to-run download command the report printed, as argv for this virtual environment."""
    line = next(line for line in stderr.splitlines() if line.startswith("qubrid-video: to save it: "))
    words = shlex.split(line.removeprefix("qubrid-video: to save it: "))
    assert words[:2] == ["qubrid-video", "download"]
    return words[1:]


def _regular_file(tmp_path: Path) -> Path:
    existing = tmp_path / "fox.mp4"
    existing.write_bytes(b"keep")
    return existing


def _fifo(tmp_path: Path) -> str:
    # Stands for any special file (never /dev/null itself: a wrong answer here would replace it).
    os.mkfifo(tmp_path / "pipe")
    return str(tmp_path / "pipe")


@pytest.mark.parametrize(
    ("output", "extra", "status", "text"),
    [
        (lambda tmp: str(_regular_file(tmp)), [], 10, "already exists; pass --overwrite to replace it"),
        (lambda tmp: str(tmp / "missing" / "fox.mp4"), [], 2, "does not exist (create it first)"),
        (lambda tmp: str(tmp / "missing") + "/", [], 2, "does not exist (create it first)"),
        (lambda tmp: str(_regular_file(tmp) / "fox.mp4"), [], 2, "is not a directory"),
        (lambda tmp: "/proc/fox.mp4", [], 2, "cannot create a file in /proc"),
        (_fifo, ["--overwrite"], 2, "exists and is not a regular file"),
    ],
    ids=["exists", "missing-dir", "missing-dir-slash", "through-a-file", "unwritable", "not-regular"],
)
def test_destination_is_checked_before_anything_is_paid_for(
    emulator: Emulator, tmp_path: Path, output: Callable[[Path], str], extra: list[str], status: int, text: str
) -> None:
    """A destination the video could not be saved to is refused in the command's words, and nothing is sent."""
    result = _run(emulator, "generate", "A fox", *SMALL, "-o", output(tmp_path), *extra)
    assert result.returncode == status, result.stderr
    assert text in result.stderr
    assert result.stderr.startswith("qubrid-video: error: -o: ")
    assert "overwrite=True" not in result.stderr
    assert "dest:" not in result.stderr
    assert emulator.requests() == []
    if (tmp_path / "fox.mp4").is_file():
        assert (tmp_path / "fox.mp4").read_bytes() == b"keep"


def test_failed_download_names_the_video_and_the_printed_command_saves_it(emulator: Emulator, tmp_path: Path) -> None:
    """Downloads that keep failing after a generation print its URL, request id and a working download command."""
    emulator.inject("drop_download", count=6)  # the first try and every resume
    result = _run(emulator, "generate", "A fox", *SMALL, "-o", str(tmp_path / "fox.mp4"))
    assert result.returncode == 10, result.stderr
    (entry,) = emulator.requests()
    assert entry.request_id in result.stderr
    assert "the video was generated" in result.stderr
    assert f"{emulator.files_origin}/files/{emulator.downloads()[0].name}" in result.stderr
    assert list(tmp_path.iterdir()) == []
    saved = _run(emulator, *_save_command(result.stderr))
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout.startswith(f"saved {tmp_path / 'fox.mp4'} (")
    assert entry.request_id in saved.stdout
    assert len(emulator.requests()) == 1  # fetched, not generated again


def test_json_reports_a_failure_after_generation_as_one_object(emulator: Emulator, tmp_path: Path) -> None:
    """With --json a post-generation failure is exactly one JSON object on stdout, naming the video."""
    emulator.inject("drop_download", count=6)
    result = _run(emulator, "generate", "A fox", *SMALL, "--json", "-o", str(tmp_path))
    assert result.returncode == 10
    (line,) = result.stdout.splitlines()
    report = json.loads(line)
    (entry,) = emulator.requests()
    assert report["exit_status"] == 10
    assert report["request_id"] == entry.request_id
    assert report["url"].startswith(emulator.files_origin)
    assert report["may_have_generated"] is True
    assert report["download_command"].startswith("qubrid-video download ")
    assert "download kept failing" in report["error"]


def test_json_reports_a_failure_before_generation_as_one_object(emulator: Emulator, tmp_path: Path) -> None:
    """An API error under --json is one object too; a possibly billed one carries the key that replays it."""
    unknown = _run(emulator, "generate", "A fox", *SMALL, "--model", "nope", "--json", "-o", str(tmp_path))
    assert unknown.returncode == 6
    report = json.loads(unknown.stdout)
    assert report["exit_status"] == 6
    assert report["url"] is None
    assert report["may_have_generated"] is False
    assert report["request_id"] == emulator.requests()[0].request_id

    emulator.inject("500")
    billed = _run(emulator, "generate", "A fox", *SMALL, "--json", "-o", str(tmp_path))
    report = json.loads(billed.stdout)
    assert (billed.returncode, report["may_have_generated"]) == (8, True)
    assert report["idempotency_key"] == emulator.requests()[-1].idempotency_key
    again = _run(emulator, "generate", "A fox", *SMALL, "--idempotency-key", report["idempotency_key"],
                 "-o", str(tmp_path))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert emulator.requests()[-1].idempotency_key == report["idempotency_key"]


def test_possibly_billed_failure_says_how_to_replay_it(emulator: Emulator, tmp_path: Path) -> None:
    """A 500 (may have been billed) prints the Idempotency-Key that makes a re-run replay, in the command's words."""
    emulator.inject("500")
    result = _run(emulator, "generate", "A fox", *SMALL, "-o", str(tmp_path))
    assert result.returncode == 8
    key = emulator.requests()[0].idempotency_key
    assert f"--idempotency-key {key}" in result.stderr


def test_disk_full_after_generation_names_the_video(emulator: Emulator, tmp_path: Path) -> None:
    """A write that fails (file-size limit) after the video was generated: exit 10, the video named, no debris."""
    result = _run(emulator, "generate", "A fox", *SMALL, "-o", str(tmp_path / "fox.mp4"), max_file_size=2000)
    assert result.returncode == 10, result.stderr
    (entry,) = emulator.requests()
    assert entry.request_id in result.stderr
    assert "qubrid-video download" in result.stderr
    assert list(tmp_path.iterdir()) == []
    saved = _run(emulator, *_save_command(result.stderr))
    assert saved.returncode == 0, saved.stderr
    assert len(emulator.requests()) == 1


def _wait_for(condition: Callable[[], Any], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_ctrl_c_during_download_names_the_video_and_leaves_no_partial_file(emulator: Emulator, tmp_path: Path) -> None:
    """SIGINT while the video streams: exit 130, no file at all in the output dir, and the video's URL printed."""
    emulator.inject("slow_download", delay=30)
    argv = command("generate", "A fox", *SMALL, "-o", str(tmp_path))
    with subprocess.Popen(argv, env=_env(emulator), stderr=subprocess.PIPE, text=True) as proc:
        _wait_for(lambda: any(p.stat().st_size for p in tmp_path.iterdir()), "bytes in the temporary file")
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=60)
    assert proc.returncode == 130, errors
    assert "interrupted" in errors
    assert emulator.requests()[0].request_id in errors
    assert "qubrid-video download" in errors
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("stop", "ignore_sigint"),
    [(signal.SIGTERM, False), (signal.SIGTERM, True), (signal.SIGHUP, False)],
    ids=["sigterm", "sigterm-sigint-ignored", "sighup"],
)
def test_sigterm_during_download_names_the_video_and_leaves_no_partial_file(
    emulator: Emulator, tmp_path: Path, stop: signal.Signals, ignore_sigint: bool
) -> None:
    """SIGTERM or SIGHUP stops generate as Ctrl-C does (exit 128+N, the video named, nothing left); an
    inherited ignored SIGINT stays ignored, so SIGINT then SIGTERM ends as terminated, not interrupted."""
    emulator.inject("slow_download", delay=30)
    argv = command("generate", "A fox", *SMALL, "-o", str(tmp_path), ignore_sigint=ignore_sigint)
    with subprocess.Popen(argv, env=_env(emulator), stderr=subprocess.PIPE, text=True) as proc:
        _wait_for(lambda: any(p.stat().st_size for p in tmp_path.iterdir()), "bytes in the temporary file")
        if ignore_sigint:
            proc.send_signal(signal.SIGINT)
        proc.send_signal(stop)
        _, errors = proc.communicate(timeout=60)
    assert proc.returncode == 128 + stop, errors
    assert f"terminated ({stop.name})" in errors
    assert emulator.requests()[0].request_id in errors
    assert list(tmp_path.iterdir()) == []


def test_sigterm_during_batch_keeps_the_ledger(emulator: Emulator, tmp_path: Path) -> None:
    """SIGTERM mid-batch: exit 143, no partial file, and the re-run downloads without a new generation."""
    jobs, out = tmp_path / "jobs.jsonl", tmp_path / "out"
    jobs.write_text(json.dumps({"prompt": "p", "duration": 1, "aspect_ratio": "1:1"}) + "\n")
    emulator.inject("slow_download", delay=30)
    argv = command("batch", str(jobs), "--out", str(out))
    with subprocess.Popen(argv, env=_env(emulator), stderr=subprocess.PIPE, text=True) as proc:
        _wait_for(lambda: out.is_dir() and any(p.suffix == ".part" and p.stat().st_size for p in out.iterdir()),
                  "bytes in the temporary file")  # fmt: skip
        proc.send_signal(signal.SIGTERM)
        _, errors = proc.communicate(timeout=60)
    assert proc.returncode == 143, errors
    assert [p.name for p in out.iterdir()] == ["manifest.jsonl"]
    again = _run(emulator, "batch", str(jobs), "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert len(emulator.requests()) == 1


def test_download_command_is_atomic_and_never_clobbers(emulator: Emulator, tmp_path: Path) -> None:
    """`qubrid-video download` refuses an existing file before fetching, and saves the exact bytes otherwise."""
    first = _run(emulator, "generate", "A fox", *SMALL, "--json", "-o", str(tmp_path / "a.mp4"))
    result = json.loads(first.stdout)
    existing = _regular_file(tmp_path)
    refused = _run(emulator, "download", result["url"], "-o", str(existing))
    assert refused.returncode == 10
    assert "pass --overwrite" in refused.stderr
    assert existing.read_bytes() == b"keep"
    downloads = len(emulator.downloads())
    fetched = _run(emulator, "download", result["url"], "-o", str(existing), "--overwrite", "--json")
    assert fetched.returncode == 0, fetched.stderr
    assert existing.read_bytes() == (tmp_path / "a.mp4").read_bytes()
    assert json.loads(fetched.stdout)["size"] == existing.stat().st_size
    assert len(emulator.downloads()) == downloads + 1
    assert len(emulator.requests()) == 1


def test_download_command_refuses_a_url_that_is_not_http(emulator: Emulator, tmp_path: Path) -> None:
    """A URL that is not http(s) is a usage error naming URL."""
    result = _run(emulator, "download", "file:///etc/passwd", "-o", str(tmp_path))
    assert result.returncode == 2
    assert "URL: expected the video's http(s) URL" in result.stderr


def test_debug_keeps_the_documented_exit_status(emulator: Emulator, tmp_path: Path) -> None:
    """--debug prints the traceback and still exits with the status of the error's class."""
    emulator.inject("drop_download", count=6)
    result = _run(emulator, "generate", "A fox", *SMALL, "--debug", "-o", str(tmp_path))
    assert result.returncode == 10, result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "qubrid-video: to save it: " in result.stderr


def test_no_key_under_json_is_one_object(tmp_path: Path) -> None:
    """Without a key, --json still prints one object, with the authentication status."""
    env = {k: v for k, v in os.environ.items() if k != "QUBRID_API_KEY"}
    result = subprocess.run([QUBRID_VIDEO, "generate", "A fox", "--json", "-o", str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 3
    assert "QUBRID_API_KEY" in json.loads(result.stdout)["error"]


def test_contract_check_without_the_extra_says_which_to_install(emulator: Emulator, tmp_path: Path) -> None:
    """Without openapi-core (the `contract` extra), contract-check names the extra, exit 2, no traceback."""
    script = tmp_path / "without_contract.py"
    # The interpreter cannot import openapi_core, as in an environment with only the `cli` extra.
    script.write_text("import sys\nsys.modules['openapi_core'] = None\nfrom qubrid_video_cli import main\nmain()\n")
    result = subprocess.run([sys.executable, str(script), "contract-check", "--base-url", emulator.base_url],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 2
    assert "pip install 'qubrid-video[contract]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert emulator.requests() == []


@pytest.mark.parametrize(
    ("stops", "ignore_sigint", "by"),
    [([signal.SIGTERM], False, "SIGTERM"), ([signal.SIGINT], False, "SIGINT"),
     ([signal.SIGINT, signal.SIGTERM], True, "SIGTERM")],
    ids=["sigterm", "sigint", "sigint-ignored"],
)  # fmt: skip
def test_emulator_command_cleans_up_on_sigterm_and_sigint(
    tmp_path: Path, stops: list[signal.Signals], ignore_sigint: bool, by: str
) -> None:
    """`qubrid-video emulator` stopped by SIGTERM or SIGINT exits 0, says which, and deletes its temporary
    folder; started with SIGINT ignored (a background job), it keeps ignoring it and stops on SIGTERM."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    argv = command("emulator", "--port", "0", ignore_sigint=ignore_sigint)
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        assert proc.stdout.readline().startswith("http://127.0.0.1:")
        ready = [proc.stderr.readline() for _ in range(4)]  # the last line says how to stop it
        assert [p.name[:16] for p in tmp_path.iterdir()] == ["qubrid-emulator-"]
        for stop in stops:
            proc.send_signal(stop)
        _, errors = proc.communicate(timeout=60)
    assert proc.returncode == 0, errors
    assert f"Qubrid emulator stopped ({by})." in errors
    assert ("SIGINT is ignored" in ready[-1]) == ignore_sigint
    assert list(tmp_path.iterdir()) == []


def test_a_name_too_long_for_the_temporary_file_is_refused_before_paying(emulator: Emulator, tmp_path: Path) -> None:
    """A file name the file system takes, but not with the download's temporary-name decoration, is refused first."""
    result = _run(emulator, "generate", "A fox", *SMALL, "-o", str(tmp_path / ("f" * 245 + ".mp4")))
    assert result.returncode == 2, result.stderr
    assert "File name too long" in result.stderr
    assert emulator.requests() == []


def _fake_api(url: str, request_id: str) -> bytes:
    body = json.dumps({"created": 1, "data": [{"url": url}]}).encode()
    return raw_answer("200 OK", body, "Content-Type: application/json", f"x-request-id: {request_id}")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/v/a\x1b[31m.mp4", "http://127.0.0.1:9/v/a\nqubrid-video: error: forged.mp4",
     "http://127.0.0.1:9/v/$(touch pwned)';x.mp4", "http://127.0.0.1:9/" + "a" * 70000],
    ids=["escape", "newline", "shell", "too-long"],
)  # fmt: skip
def test_a_hostile_video_url_still_names_the_video_safely(tmp_path: Path, url: str) -> None:
    """A URL httpx refuses or a shell would misread: exit 10, one error line, the request id, a quoted command."""
    with hostile("canned", answer=_fake_api(url, "req-\u00c2\u009b31m")) as (base_url, recorder):
        env = {**os.environ, "QUBRID_API_KEY": "sk-x", "QUBRID_BASE_URL": base_url}
        for mode in ([], ["--json"]):
            result = subprocess.run(command("generate", "A fox", "-o", str(tmp_path), *mode), env=env,
                                    capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
            assert result.returncode == 10, result.stderr
            assert "Traceback" not in result.stderr
            assert "\x1b" not in result.stderr + result.stdout
            assert "\x9b" not in result.stderr + result.stdout
            if mode:
                report = json.loads(result.stdout)
                assert report["url"] == url
                assert report["request_id"]
                continue
            lines = result.stderr.splitlines()
            assert [line.startswith("qubrid-video: ") for line in lines] == [True] * len(lines)
            assert sum(line.startswith("qubrid-video: error: ") for line in lines) == 1
            assert "\\x9b" in result.stderr  # the request id, escaped
            assert len(_save_command(result.stderr)) == 6  # download URL --request-id ID -o OUT: one word each
    assert len(recorder.requests) == 2
    assert list(tmp_path.iterdir()) == []


def test_json_covers_usage_errors(tmp_path: Path) -> None:
    """Under --json a usage error is one JSON object too, with exit status 2."""
    result = subprocess.run([QUBRID_VIDEO, "generate", "x", "--duration", "abc", "--json"], capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 2
    assert json.loads(result.stdout)["exit_status"] == 2
    assert "duration" in json.loads(result.stdout)["error"]


def test_download_command_edges(emulator: Emulator, tmp_path: Path) -> None:
    """A malformed URL is a usage error without a traceback; without --request-id nothing says None."""
    bad = _run(emulator, "download", "http://[::1", "-o", str(tmp_path))
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    first = json.loads(_run(emulator, "generate", "A fox", *SMALL, "--json", "-o", str(tmp_path / "a.mp4")).stdout)
    saved = _run(emulator, "download", first["url"], "-o", str(tmp_path / "b.mp4"))
    assert saved.returncode == 0, saved.stderr
    assert saved.stdout.strip().endswith(")")
    assert "None" not in saved.stdout
    exists = _run(emulator, "download", first["url"], "-o", str(tmp_path / "b.mp4"), "--json")
    report = json.loads(exists.stdout)
    assert (exists.returncode, report["url"], report["download_command"]) == (10, first["url"], None)


def test_timeout_bounds_the_download_command(emulator: Emulator, tmp_path: Path) -> None:
    """--timeout sets the download's whole deadline: a trickling CDN ends in exit 10 within it, nothing left."""
    first = json.loads(_run(emulator, "generate", "A fox", *SMALL, "--json", "-o", str(tmp_path / "a.mp4")).stdout)
    emulator.inject("slow_download", delay=60)
    result = _run(emulator, "download", first["url"], "-o", str(tmp_path / "b.mp4"), "--timeout", "2", "--json")
    assert result.returncode == 10, result.stderr
    assert json.loads(result.stdout)["error"] == "the download did not finish within 2 s"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]


def _no_key_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("QUBRID_")}


@pytest.mark.parametrize("keyed", [True, False], ids=["api-origin", "no-key"])
def test_timeout_bounds_a_trickled_head_in_the_download_command(tmp_path: Path, keyed: bool) -> None:
    """A server trickling the answer's head one byte every 0.3 s: --timeout 2 ends it (exit 10), nothing left,
    whether the URL is on the API's origin (the client's pool, keyed) or the command has no key (detached)."""
    with hostile(f"trickle_head:{TRICKLE}") as (base_url, recorder):
        env = {**_no_key_env(), **({"QUBRID_API_KEY": "sk-x", "QUBRID_BASE_URL": base_url} if keyed else {})}
        started = time.monotonic()
        result = subprocess.run(command("download", f"{base_url}/files/video.mp4", "-o", str(tmp_path), "--timeout",
                                        "2", "--json"), env=env, capture_output=True, text=True, timeout=120,
                                check=False)  # fmt: skip
        elapsed = time.monotonic() - started
    assert result.returncode == 10, result.stderr
    assert json.loads(result.stdout)["error"] == "the download did not finish within 2 s"
    assert elapsed < 2 + 4  # the deadline, and the interpreter's start on a loaded machine (unbounded: 12 s)
    assert recorder.header(0, "authorization") == ("Bearer sk-x" if keyed else None)
    assert list(tmp_path.iterdir()) == []


def test_download_command_reports_a_redirect_it_cannot_follow(tmp_path: Path) -> None:
    """A Location httpx parses but cannot join (``http:\\\\host/x``): the download's exit status 10 and one
    error line naming it, not exit 1 with httpx's message."""
    with hostile("location:http:\\\\127.0.0.1:1/video.mp4") as (base_url, _):
        result = subprocess.run(command("download", f"{base_url}/files/video.mp4", "-o", str(tmp_path)),
                                env=_no_key_env(), capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 10, result.stderr
    assert "an invalid redirect: its Location is not a valid URL" in result.stderr
    assert "InvalidURL" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_bidi_characters_from_the_server_are_escaped_on_the_terminal(tmp_path: Path) -> None:
    """A request id and a URL holding a right-to-left override: every line the command prints shows
    them escaped (``\\u202e``, ``%E2%80%AE``), so they cannot reorder the line or the command it suggests."""
    url, request_id = "http://127.0.0.1:9/v/\u202egpj.mp4", "req-\u202eexe.4pm\u2066"
    with hostile("canned", answer=_fake_api(url, request_id)) as (base_url, _):
        env = {**_no_key_env(), "QUBRID_API_KEY": "sk-x", "QUBRID_BASE_URL": base_url}
        result = subprocess.run(command("generate", "A fox", "-o", str(tmp_path)), env=env, capture_output=True,
                                text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 10, result.stderr
    assert not {"\u202e", "\u2066"} & set(result.stderr + result.stdout)
    assert "req-\\u202eexe.4pm\\u2066" in result.stderr
    words = _save_command(result.stderr)
    assert words[1] == "http://127.0.0.1:9/v/%E2%80%AEgpj.mp4"
    assert words[2:4] == ["--request-id", "req-\\u202eexe.4pm\\u2066"]
