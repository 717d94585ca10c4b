"""``qubrid-video batch`` as a ledger: no video generated twice, none clobbered, every line failing alone.

Each test runs the real command (in-process through click, or as a child process where it needs
its own signals or limits) against the emulator, whose journal counts the generation requests.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from qubrid_video_cli._commands import cli
from qubrid_video_emulator import Emulator

from ..hostile import hostile
from ..media import probe
from ..processes import command

QUBRID_VIDEO = str(Path(sys.executable).parent / "qubrid-video")
SMALL = {"duration": 1, "resolution": "720p", "aspect_ratio": "1:1", "draft": True}


def _env(emulator: Emulator) -> dict[str, str]:
    return {"QUBRID_API_KEY": emulator.api_key, "QUBRID_BASE_URL": emulator.base_url}


def _jobs(tmp_path: Path, *lines: dict[str, Any] | str | bytes) -> Path:
    """A jobs file: dicts as JSON, str and bytes as they are, one per line."""
    encoded = [json.dumps(x).encode() if isinstance(x, dict) else x if isinstance(x, bytes) else x.encode()
               for x in lines]  # fmt: skip
    path = tmp_path / "jobs.jsonl"
    path.write_bytes(b"\n".join(encoded) + b"\n")
    return path


def _batch(emulator: Emulator, jobs: Path, out: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["batch", str(jobs), "--out", str(out), *args], env=_env(emulator),
                              catch_exceptions=False)  # fmt: skip


def _run(api: str, jobs: Path, out: Path, *args: str, key: str = "k") -> subprocess.CompletedProcess[str]:
    """The command in a child process, against the API at `api` (the emulator's, or a fake one)."""
    env = {**os.environ, "QUBRID_API_KEY": key, "QUBRID_BASE_URL": api}
    return subprocess.run(command("batch", str(jobs), "--out", str(out), *args), env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=120, check=False)  # fmt: skip


def _records(out: Path) -> list[dict[str, Any]]:
    """The manifest's readable records, oldest first."""
    records = []
    for raw in (out / "manifest.jsonl").read_bytes().split(b"\n"):
        try:
            records.append(json.loads(raw))
        except ValueError:
            continue
    return records


def _last(out: Path, line: int) -> dict[str, Any]:
    return [r for r in _records(out) if r["line"] == line][-1]


def _wait_for(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _generated(out: Path, line: int) -> bool:
    path = out / "manifest.jsonl"
    return path.exists() and any(r["line"] == line and r["status"] == "generated" for r in _records(out))


# Sets the child's signals and limits in a fresh interpreter, then execs the command: unlike
# preexec_fn, no Python runs between fork and exec in this process, where the emulator's threads are.
_LAUNCHER = """
import os, resource, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)  # the test run may have started with SIGINT ignored
limit = int(sys.argv[1])
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), not the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
os.execv(sys.argv[2], sys.argv[2:])
"""


def _child(emulator: Emulator, jobs: Path, out: Path, *, file_size_limit: int = 0) -> Any:
    launcher = [sys.executable, "-c", _LAUNCHER, str(file_size_limit)]
    command = [*launcher, QUBRID_VIDEO, "batch", str(jobs), "--out", str(out)]
    return subprocess.Popen(command, env={**os.environ, **_env(emulator)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


@contextmanager
def _started(argv: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A child process, killed on the way out if it is still running (a failed assertion must not hang)."""
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            yield child
        finally:
            if child.poll() is None:
                child.kill()


def test_dropped_download_is_downloaded_on_rerun_not_generated(emulator: Emulator, tmp_path: Path) -> None:
    """A download that keeps dropping keeps the URL in the ledger; the re-run only downloads it."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}), tmp_path / "out"
    emulator.inject("drop_download", count=6)  # the first try and all 5 resumes
    first = _batch(emulator, jobs, out)
    assert first.exit_code == 11, first.output
    record = _last(out, 1)
    assert record["status"] == "download_failed"
    assert record["url"].startswith(emulator.files_origin)
    assert record["request_id"] == emulator.requests()[0].request_id
    assert record["url"] in first.stdout
    assert record["request_id"] in first.stdout
    assert "run the same command again to download" in first.stdout
    before = len(emulator.requests())
    second = _batch(emulator, jobs, out)
    assert second.exit_code == 0, second.output
    assert len(emulator.requests()) == before == 1
    assert probe(out / "line-0001.mp4")["width"] == 720
    assert _last(out, 1)["status"] == "done"


def test_full_disk_is_downloaded_on_rerun_not_generated(emulator: Emulator, tmp_path: Path) -> None:
    """Writes failing with EFBIG (a file size limit) leave the URL in the ledger and no partial file."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", "duration": 1, "aspect_ratio": "1:1", "draft": True}), tmp_path / "out"
    # The manifest's records fit under 4 KiB; the ~13 KB video does not.
    with _child(emulator, jobs, out, file_size_limit=4096) as proc:
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 11, stderr
    assert "File too large" in stdout
    record = _last(out, 1)
    assert record["status"] == "download_failed"
    assert record["url"] in stdout
    assert sorted(p.name for p in out.iterdir()) == ["manifest.jsonl"]
    before = len(emulator.requests())
    again = _batch(emulator, jobs, out)
    assert again.exit_code == 0, again.output
    assert len(emulator.requests()) == before == 1
    assert probe(out / "line-0001.mp4")["duration"] >= 0.9  # whole, not the first 4 KiB


def test_ctrl_c_during_download_is_downloaded_on_rerun_not_generated(tmp_path: Path) -> None:
    """SIGINT mid-download: exit 130, no partial file; the re-run downloads what was generated."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}), tmp_path / "out"
    with Emulator() as emulator:
        emulator.inject("slow_download", delay=60)
        with _child(emulator, jobs, out) as proc:
            _wait_for(lambda: emulator.downloads() and _generated(out, 1), "the download to start")
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=30)
        assert proc.returncode == 130, stderr
        assert sorted(p.name for p in out.iterdir()) == ["manifest.jsonl"]
        before = len(emulator.requests())
        again = _batch(emulator, jobs, out)
        assert again.exit_code == 0, again.output
        assert len(emulator.requests()) == before == 1
        assert (out / "line-0001.mp4").stat().st_size > 0


def test_file_appearing_during_download_is_not_clobbered(tmp_path: Path) -> None:
    """A file created at the output while the video downloads is kept; the video waits in the ledger."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL, "output": "fox.mp4"}), tmp_path / "out"
    with Emulator() as emulator:
        emulator.inject("slow_download", delay=3)
        with _child(emulator, jobs, out) as proc:
            _wait_for(lambda: _generated(out, 1), "the generated record")
            (out / "fox.mp4").write_bytes(b"mine")
            stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 11, stderr
        assert (out / "fox.mp4").read_bytes() == b"mine"
        assert _last(out, 1)["status"] == "download_failed"
        assert "fox.mp4 already exists" in stdout
        blocked = _batch(emulator, jobs, out)
        assert blocked.exit_code == 11
        assert "line 1: " in blocked.stdout
        assert "already exists and the manifest does not record it" in blocked.stdout
        assert _last(out, 1)["url"] in blocked.stdout
        assert (out / "fox.mp4").read_bytes() == b"mine"
        (out / "fox.mp4").unlink()
        again = _batch(emulator, jobs, out)
        assert again.exit_code == 0, again.output
        assert len(emulator.requests()) == 1
        assert probe(out / "fox.mp4")["width"] == 720


def test_second_run_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    """While one run holds DIR, a second on it fails at once (exit 13) and sends nothing; --dry-run still plans."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}, {"prompt": "b", **SMALL}), tmp_path / "out"
    with hostile("silent") as (api, seen):  # the first run's generations never answer
        env = {**os.environ, "QUBRID_API_KEY": "k", "QUBRID_BASE_URL": api}
        argv = command("batch", str(jobs), "--out", str(out))
        with _started(argv, env) as first:
            _wait_for(lambda: len(seen.requests) == 2, "the first run's two generations")
            with _started(argv, env) as second:
                _wait_for(lambda: second.poll() is not None or len(seen.requests) > 2, "the second run to end or send")
                assert len(seen.requests) == 2
                _, refusal = second.communicate(timeout=30)
            dry = _run(api, jobs, out, "--dry-run")
            first.send_signal(signal.SIGINT)
            first.communicate(timeout=30)
        assert first.returncode == 130  # it was still running all along
        assert second.returncode == 13, refusal
        assert f"qubrid-video: error: another batch is running on {out}" in refusal
        assert dry.returncode == 0, dry.stderr
        # Requests in flight may be billed: if the run stopped now, re-sending them would need --retry-uncertain.
        assert dry.stdout == "batch plan: 0 generations, 2 skipped (may have been billed; --retry-uncertain re-sends)\n"
        assert len(seen.requests) == 2


def test_existing_file_fails_its_line_before_sending(emulator: Emulator, tmp_path: Path) -> None:
    """An existing file at a line's output is a per-line error: nothing sent for it, nothing replaced."""
    jobs = _jobs(tmp_path, {"prompt": "mine", **SMALL, "output": "fox.mp4"}, {"prompt": "other", **SMALL})
    out = tmp_path / "out"
    out.mkdir()
    (out / "fox.mp4").write_bytes(b"keep")
    result = _batch(emulator, jobs, out)
    assert result.exit_code == 11, result.output
    assert f"line 1: {out / 'fox.mp4'} already exists" in result.stdout
    assert [r.fields["prompt"] for r in emulator.requests()] == ["other"]
    assert (out / "fox.mp4").read_bytes() == b"keep"


def test_colliding_outputs_fail_before_sending(emulator: Emulator, tmp_path: Path) -> None:
    """Duplicate names, another line's default name and the manifest's name fail their lines, by number."""
    jobs = _jobs(
        tmp_path,
        {"prompt": "p1", **SMALL, "output": "same.mp4"},
        {"prompt": "p2", **SMALL, "output": "same.mp4"},
        {"prompt": "p3", **SMALL, "output": "line-0004.mp4"},
        {"prompt": "p4", **SMALL},
        {"prompt": "p5", **SMALL, "output": "manifest.jsonl"},
        {"prompt": "p6", **SMALL, "output": "SAME.mp4"},
    )
    out = tmp_path / "out"
    result = _batch(emulator, jobs, out)
    assert result.exit_code == 11, result.output
    assert "line 2: output: 'same.mp4' is already the output of line 1" in result.stdout
    assert "line 3: output: 'line-0004.mp4' is the default name of line 4" in result.stdout
    assert "line 5: output: 'manifest.jsonl' is the batch's own manifest" in result.stdout
    assert "line 6: output: 'SAME.mp4' is already the output of line 1" in result.stdout
    assert sorted(r.fields["prompt"] for r in emulator.requests()) == ["p1", "p4"]
    assert "2 done, 0 skipped, 4 failed" in result.stdout
    assert {r["line"] for r in _records(out)} == {1, 4}  # the manifest is intact and readable
    assert _batch(emulator, jobs, out).exit_code == 11
    assert len(emulator.requests()) == 2


def test_unsafe_output_names_fail_before_sending(emulator: Emulator, tmp_path: Path) -> None:
    """Empty, NUL, separators, a leading dot, control characters, over-long, not a string: per-line errors."""
    bad = ["", "a\u0000b.mp4", "a/b.mp4", "a\\b.mp4", "..", ".hidden.mp4", "a\nb.mp4", "a\u2028b.mp4", "a\x7fb.mp4",
           "x" * 201, 5]  # fmt: skip
    jobs = _jobs(tmp_path, *({"prompt": f"p{i}", **SMALL, "output": name} for i, name in enumerate(bad)),
                 {"prompt": "fine", **SMALL, "output": "ok.mp4"})  # fmt: skip
    result = _batch(emulator, jobs, tmp_path / "out")
    assert result.exit_code == 11, result.output
    for number in range(1, len(bad) + 1):
        assert f"line {number}: output: " in result.stdout
    assert "NUL" in result.stdout
    assert "U+2028" in result.stdout
    assert "at most 200" in result.stdout
    assert [r.fields["prompt"] for r in emulator.requests()] == ["fine"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.jsonl", "ok.mp4"]


def test_names_windows_cannot_hold_fail_before_sending(emulator: Emulator, tmp_path: Path) -> None:
    """Reserved characters, a trailing dot or space, device names with any extension: per-line errors."""
    bad = ["a<b.mp4", "a>b.mp4", "a:b.mp4", 'a"b.mp4', "a|b.mp4", "a?b.mp4", "a*b.mp4", "fox.", "fox.mp4 ",
           "CON", "con.mp4", "Nul.tar.gz", "aux .mp4", "prn.MP4", "COM1.mp4", "lpt9", "com\u00b9.mp4"]  # fmt: skip
    fine = ["console.mp4", "com10.mp4", "lpt.mp4", "my.con.mp4"]
    lines = [*({"prompt": f"bad {name}", **SMALL, "output": name} for name in bad),
             *({"prompt": f"fine {name}", **SMALL, "output": name} for name in fine)]  # fmt: skip
    result = _run(emulator.base_url, _jobs(tmp_path, *lines), tmp_path / "out", key=emulator.api_key)
    assert result.returncode == 11, result.stderr
    for number, name in enumerate(bad, start=1):
        assert f"line {number}: output: {name!r} " in result.stdout, name
    assert sorted(r.fields["prompt"] for r in emulator.requests()) == sorted(f"fine {name}" for name in fine)
    assert f"{len(fine)} done, 0 skipped, {len(bad)} failed" in result.stdout


def test_undecodable_and_unencodable_lines_fail_alone(emulator: Emulator, tmp_path: Path) -> None:
    """Bad bytes, a lone surrogate, deep nesting fail their own lines; a raw U+2028 stays inside its string."""
    jobs = _jobs(
        tmp_path,
        {"prompt": "first", **SMALL},
        b"\xff\xfe{}",
        '{"prompt": "\\ud800", "duration": 1}',
        json.dumps({"prompt": "a\u2028b", **SMALL}, ensure_ascii=False),
        "[" * 100_000,
        {"prompt": "last", **SMALL},
    )
    result = _batch(emulator, jobs, tmp_path / "out")
    assert result.exit_code == 11, result.output
    assert "line 2: not UTF-8 text (byte 0xff" in result.stdout
    assert "line 3: field 'prompt' holds a lone surrogate (U+D800)" in result.stdout
    assert "line 5: invalid JSON" in result.stdout
    assert sorted(r.fields["prompt"] for r in emulator.requests()) == ["a\u2028b", "first", "last"]
    assert "3 done, 0 skipped, 3 failed" in result.stdout


def test_cut_manifest_line_is_skipped_with_a_warning(emulator: Emulator, tmp_path: Path) -> None:
    """A record cut short by a crash, or garbage, is skipped with a warning; the next record starts a new line."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}, {"prompt": "b", **SMALL}), tmp_path / "out"
    assert _batch(emulator, jobs, out).exit_code == 0
    manifest = out / "manifest.jsonl"
    records = len(manifest.read_bytes().splitlines())
    with manifest.open("ab") as handle:
        handle.write(b"\xff garbage\n" + b'{"line": 2, "status": "gen')
    (out / "line-0002.mp4").unlink()
    result = _batch(emulator, jobs, out)
    assert result.exit_code == 0, result.output
    assert f"warning: {manifest} line {records + 1} is not a readable record" in result.stderr
    assert f"warning: {manifest} line {records + 2} is not a readable record" in result.stderr
    assert len(emulator.requests()) == 2  # line 2 was downloaded again, not generated
    assert _last(out, 2)["status"] == "done"
    quiet = _batch(emulator, jobs, out)
    assert quiet.stderr.count("warning") == 2  # the cut record stays, and is still the only garbage
    assert "0 done, 2 skipped, 0 failed" in quiet.stdout


def test_deleted_video_is_downloaded_again_not_generated(emulator: Emulator, tmp_path: Path) -> None:
    """A done line whose file was removed is fetched again from its recorded URL."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}), tmp_path / "out"
    assert _batch(emulator, jobs, out).exit_code == 0
    (out / "line-0001.mp4").unlink()
    assert _batch(emulator, jobs, out).exit_code == 0
    assert len(emulator.requests()) == 1
    assert (out / "line-0001.mp4").exists()


def test_edited_line_does_not_get_the_old_video(emulator: Emulator, tmp_path: Path) -> None:
    """A recorded video belongs to the line's content: after an edit, the new content is generated."""
    out = tmp_path / "out"
    assert _batch(emulator, _jobs(tmp_path, {"prompt": "old", **SMALL}), out).exit_code == 0
    generated = next(r for r in _records(out) if r["status"] == "generated")
    with (out / "manifest.jsonl").open("a") as handle:  # as if it crashed before saving the video
        handle.write(json.dumps(generated) + "\n")
    (out / "line-0001.mp4").unlink()
    assert _batch(emulator, _jobs(tmp_path, {"prompt": "new", **SMALL}), out).exit_code == 0
    assert [r.fields["prompt"] for r in emulator.requests()] == ["old", "new"]
    assert _last(out, 1)["url"] != generated["url"]


def test_inserted_and_deleted_lines_keep_their_videos(emulator: Emulator, tmp_path: Path) -> None:
    """Lines known by what they ask for: after inserting or deleting lines, only a new line is generated."""
    out, twin, named = tmp_path / "out", {"prompt": "twin", **SMALL}, {"prompt": "named", **SMALL, "output": "b.mp4"}
    first = _run(emulator.base_url, _jobs(tmp_path, twin, twin, named), out, key=emulator.api_key)
    assert first.returncode == 0, first.stderr
    assert emulator.generations == 3  # identical lines are two videos
    saved = {path.name: path.stat().st_ino for path in out.glob("*.mp4")}
    assert sorted(saved) == ["b.mp4", "line-0001.mp4", "line-0002.mp4"]
    jobs = _jobs(tmp_path, "", {"prompt": "new", **SMALL}, twin, twin, named)
    inserted = _run(emulator.base_url, jobs, out, key=emulator.api_key)
    assert inserted.returncode == 0, inserted.stdout
    assert [r.fields["prompt"] for r in emulator.requests()][3:] == ["new"]
    assert "1 done, 3 skipped, 0 failed" in inserted.stdout
    assert {name: (out / name).stat().st_ino for name in saved} == saved  # neither fetched again nor replaced
    assert (out / "line-0002-2.mp4").is_file()  # line 2's usual name is the moved twin's
    deleted = _run(emulator.base_url, _jobs(tmp_path, "", {"prompt": "new", **SMALL}, twin, named), out,
                   key=emulator.api_key)  # fmt: skip
    assert deleted.returncode == 0, deleted.stdout
    assert "0 done, 3 skipped, 0 failed" in deleted.stdout
    assert len(emulator.requests()) == 4


def test_idempotency_key_follows_the_line_not_its_number(emulator: Emulator, tmp_path: Path) -> None:
    """A line sends the same key wherever it is in the file, so the API replays it rather than billing again."""
    a, b = {"prompt": "a", **SMALL}, {"prompt": "b", **SMALL}
    assert _run(emulator.base_url, _jobs(tmp_path, a, b), tmp_path / "one", key=emulator.api_key).returncode == 0
    moved = _jobs(tmp_path, {"prompt": "x", **SMALL}, b, a)
    assert _run(emulator.base_url, moved, tmp_path / "two", key=emulator.api_key).returncode == 0
    keys: dict[str, set[str]] = {}
    for request in emulator.requests():
        keys.setdefault(request.fields["prompt"], set()).add(request.idempotency_key)
    assert {prompt: len(sent) for prompt, sent in keys.items()} == {"a": 1, "b": 1, "x": 1}
    assert emulator.generations == 3  # a and b were replays


def test_manifest_keyed_by_line_number_is_still_read(emulator: Emulator, tmp_path: Path) -> None:
    """Records of an older manifest (by line number, no key) go to their lines, even after a line is inserted."""
    out, lines = tmp_path / "out", [{"prompt": "a", **SMALL}, {"prompt": "b", **SMALL}]
    assert _run(emulator.base_url, _jobs(tmp_path, *lines), out, key=emulator.api_key).returncode == 0
    old = [{k: v for k, v in r.items() if k not in ("key", "occurrence") and (k != "output" or r["status"] == "done")}
           for r in _records(out)]  # fmt: skip
    (out / "manifest.jsonl").write_text("".join(json.dumps(record) + "\n" for record in old))
    result = _run(emulator.base_url, _jobs(tmp_path, {"prompt": "new", **SMALL}, *lines), out, key=emulator.api_key)
    assert result.returncode == 0, result.stdout
    assert "1 done, 2 skipped, 0 failed" in result.stdout
    assert [r.fields["prompt"] for r in emulator.requests()][2:] == ["new"]


def test_expired_link_is_reported_and_regenerated_only_on_request(emulator: Emulator, tmp_path: Path) -> None:
    """A stored URL answering 404 names line and URL; only --regenerate-expired sends the generation again."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}), tmp_path / "out"
    emulator.inject("drop_download", count=6)
    assert _batch(emulator, jobs, out).exit_code == 11
    record = _last(out, 1)
    dead = f"{emulator.files_origin}/files/{'0' * 32}.mp4"  # what the CDN answers once a link expired
    with (out / "manifest.jsonl").open("a") as handle:
        handle.write(json.dumps({**record, "url": dead}) + "\n")
    for _ in range(2):
        result = _batch(emulator, jobs, out)
        assert result.exit_code == 11, result.output
        assert f"line 1: the video link has expired (HTTP 404): {dead}" in result.stdout
        assert "--regenerate-expired" in result.stdout
        assert len(emulator.requests()) == 1
        assert _last(out, 1)["status"] == "expired"
    again = _batch(emulator, jobs, out, "--regenerate-expired")
    assert again.exit_code == 0, again.output
    first, second = emulator.requests()
    assert first.idempotency_key != second.idempotency_key  # a replay would only return the dead link
    assert _last(out, 1)["status"] == "done"


def test_long_retry_after_fails_the_line_instead_of_sleeping(emulator: Emulator, tmp_path: Path) -> None:
    """A 429 asking for 99999999 s fails that line at once, naming the wait; the other lines run."""
    jobs = _jobs(tmp_path, {"prompt": "a", **SMALL}, {"prompt": "b", **SMALL})
    emulator.inject("429", count=1, retry_after=99999999)
    command = [QUBRID_VIDEO, "batch", str(jobs), "--out", str(tmp_path / "out"), "--concurrency", "1"]
    result = subprocess.run(command, env={**os.environ, **_env(emulator)}, capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert result.returncode == 11, result.stderr
    assert ("line 1: rate limited: the API asked to wait 99999999 s before the next request (more than --max-wait "
            "60 s); no video was made (a 429 is not billed); re-run later") in result.stdout  # fmt: skip
    assert "not sent" not in result.stdout  # it was sent, and answered 429
    assert _last(tmp_path / "out", 1)["request_id"] == emulator.requests()[0].request_id
    assert "1 done, 0 skipped, 1 failed" in result.stdout
    assert _last(tmp_path / "out", 1)["status"] == "failed"


def test_max_wait_sets_the_cap(emulator: Emulator, tmp_path: Path) -> None:
    """--max-wait lowers the longest wait honoured: a 2 s Retry-After fails the line under --max-wait 1."""
    jobs = _jobs(tmp_path, {"prompt": "a", **SMALL})
    emulator.inject("429", count=3, retry_after=2)
    result = _batch(emulator, jobs, tmp_path / "out", "--max-wait", "1")
    assert result.exit_code == 11, result.output
    assert "line 1: rate limited: the API asked to wait 2 s before the next request (more than --max-wait 1 s)" in (
        result.stdout
    )
    assert emulator.generations == 0


def test_out_that_cannot_be_created_is_a_usage_error(emulator: Emulator, tmp_path: Path) -> None:
    """--out through a file, or where no directory can be made: exit 2, the option named, nothing sent."""
    jobs = _jobs(tmp_path, {"prompt": "a", **SMALL})
    (tmp_path / "file").write_bytes(b"")
    places = [tmp_path / "file" / "out", *([Path("/proc/qubrid-video-out")] if Path("/proc/self").exists() else [])]
    for out in places:
        result = _run(emulator.base_url, jobs, out, key=emulator.api_key)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"qubrid-video: error: --out: cannot create {out} ("), result.stderr
        assert "Errno" not in result.stderr
    assert emulator.requests() == []
    deep = tmp_path / "deep" / "a" / "b"  # missing folders are created, unlike generate -o
    assert _run(emulator.base_url, jobs, deep, key=emulator.api_key).returncode == 0
    assert (deep / "line-0001.mp4").is_file()


def test_rate_limit_pause_is_announced(emulator: Emulator, tmp_path: Path) -> None:
    """A 429 that outlasts the client's retries pauses the batch, says so on stderr once, then the line runs."""
    jobs = _jobs(tmp_path, {"prompt": "a", **SMALL})
    emulator.inject("429", count=3, retry_after=0.25)  # the first try and the client's 2 retries
    result = _batch(emulator, jobs, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("qubrid-video: rate limited: pausing all lines for 0.25 s\n") == 1, result.stderr
    assert [r.status for r in emulator.requests()] == [429, 429, 429, 200]


def test_killed_run_leaves_no_stale_temporary_file_after_the_rerun(tmp_path: Path) -> None:
    """SIGKILL mid-download leaves the download's .part file; the re-run removes it and saves the video."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}), tmp_path / "out"
    out.mkdir()
    others = [out / ".other.mp4.0123456789ab.part", out / ".line-0001.mp4.notes.part"]  # not this batch's
    for path in others:
        path.write_bytes(b"keep")

    def parts() -> list[Path]:
        return [path for path in out.iterdir() if re.fullmatch(r"\.line-0001\.mp4\.[0-9a-f]{12}\.part", path.name)]

    with Emulator() as emulator:
        emulator.inject("slow_download", delay=60)
        with _child(emulator, jobs, out) as proc:
            _wait_for(parts, "the download's temporary file")
            proc.kill()
            proc.communicate(timeout=30)
        assert len(parts()) == 1
        again = _batch(emulator, jobs, out)
        assert again.exit_code == 0, again.output
        assert "qubrid-video: removed 1 temporary file left by an earlier run" in again.stderr
        assert len(emulator.requests()) == 1
    kept = ["line-0001.mp4", "manifest.jsonl", *(path.name for path in others)]
    assert sorted(path.name for path in out.iterdir()) == sorted(kept)


def test_line_skipped_as_possibly_billed_is_not_success(emulator: Emulator, tmp_path: Path) -> None:
    """After a 500, the re-run skips the line (no video) and exits 11, saying how many and what to do."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}, {"prompt": "b", **SMALL}), tmp_path / "out"
    emulator.inject("500")
    first = _batch(emulator, jobs, out, "--concurrency", "1")
    assert first.exit_code == 11, first.output
    assert "1 line may have been billed but has no video: run the same command with --retry-uncertain" in first.stdout
    again = _batch(emulator, jobs, out)
    assert again.exit_code == 11, again.output
    assert "0 done, 2 skipped, 0 failed" in again.stdout
    assert "1 line may have been billed but has no video: run the same command with --retry-uncertain" in again.stdout
    assert len(emulator.requests()) == 2
    retried = _batch(emulator, jobs, out, "--retry-uncertain")
    assert retried.exit_code == 0, retried.output
    first_key, _, retry_key = (r.idempotency_key for r in emulator.requests())
    assert retry_key == first_key  # a server honouring it replays rather than bills
    assert "billed" not in retried.stdout


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stop_while_a_generation_is_in_flight_leaves_it_uncertain(
    emulator: Emulator, tmp_path: Path, stop: signal.Signals
) -> None:
    """Stopped while a request awaits its answer: the line may be billed, so a re-run needs --retry-uncertain."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}, {"prompt": "b", **SMALL}), tmp_path / "out"
    with hostile("silent") as (api, seen):  # the generation never answers
        env = {**os.environ, "QUBRID_API_KEY": "k", "QUBRID_BASE_URL": api}
        with _started(command("batch", str(jobs), "--out", str(out), "--concurrency", "1"), env) as child:
            _wait_for(lambda: len(seen.requests) == 1, "the generation request")
            child.send_signal(stop)
            stdout, stderr = child.communicate(timeout=30)
        sent_key = seen.header(0, "Idempotency-Key")
    assert child.returncode == 128 + stop, stderr
    table = {line.split()[0]: line.split()[1] for line in stdout.splitlines()[1:3]}
    assert table == {"1": "interrupted", "2": "not"}, stdout  # "not sent"
    assert "1 line may have been billed but has no video: run the same command with --retry-uncertain" in stdout
    dry = _run(emulator.base_url, jobs, out, "--dry-run")
    assert dry.stdout == "batch plan: 1 generation (720p: 1 s), 1 skipped (may have been billed; --retry-uncertain " \
        "re-sends)\n", dry.stdout  # fmt: skip
    again = _run(emulator.base_url, jobs, out, key=emulator.api_key)
    assert again.returncode == 11, again.stderr
    assert [r.fields["prompt"] for r in emulator.requests()] == ["b"]
    retried = _run(emulator.base_url, jobs, out, "--retry-uncertain", key=emulator.api_key)
    assert retried.returncode == 0, retried.stdout
    assert [(r.fields["prompt"], r.idempotency_key) for r in emulator.requests()][1:] == [("a", sent_key)]


def test_regeneration_stopped_in_flight_is_resent_with_its_own_key(emulator: Emulator, tmp_path: Path) -> None:
    """A --regenerate-expired request stopped in flight is re-sent with the key it went out with, not the first one."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}), tmp_path / "out"
    assert _batch(emulator, jobs, out).exit_code == 0
    (out / "line-0001.mp4").unlink()
    dead = f"{emulator.files_origin}/files/{'0' * 32}.mp4"
    with (out / "manifest.jsonl").open("a") as handle:
        handle.write(json.dumps({**_last(out, 1), "status": "expired", "url": dead}) + "\n")
    with hostile("silent") as (api, seen):
        env = {**os.environ, "QUBRID_API_KEY": "k", "QUBRID_BASE_URL": api}
        with _started(command("batch", str(jobs), "--out", str(out), "--regenerate-expired"), env) as child:
            _wait_for(lambda: len(seen.requests) == 1, "the regeneration request")
            child.send_signal(signal.SIGINT)
            child.communicate(timeout=30)
        sent_key = seen.header(0, "Idempotency-Key")
    assert child.returncode == 130
    assert sent_key != emulator.requests()[0].idempotency_key
    retried = _run(emulator.base_url, jobs, out, "--retry-uncertain", key=emulator.api_key)
    assert retried.returncode == 0, retried.stdout
    assert [r.idempotency_key for r in emulator.requests()][1:] == [sent_key]


def test_stop_during_a_rate_limit_pause_leaves_the_line_sendable(emulator: Emulator, tmp_path: Path) -> None:
    """A line waiting out a 429 is not in flight: stopped then, the re-run sends it without --retry-uncertain."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}), tmp_path / "out"
    with hostile("retry_after:61") as (api, seen):  # longer than the client waits itself, within --max-wait
        env = {**os.environ, "QUBRID_API_KEY": "k", "QUBRID_BASE_URL": api}
        with _started(command("batch", str(jobs), "--out", str(out), "--max-wait", "120"), env) as child:
            _wait_for(
                lambda: (out / "manifest.jsonl").exists() and any(r["status"] == "failed" for r in _records(out)),
                "the 429",
            )
            child.send_signal(signal.SIGINT)
            stdout, stderr = child.communicate(timeout=30)
    assert child.returncode == 130, stderr
    assert "rate limited: pausing all lines for 61 s" in stderr
    assert len(seen.requests) == 1
    assert "billed" not in stdout
    again = _run(emulator.base_url, jobs, out, key=emulator.api_key)
    assert again.returncode == 0, again.stdout
    assert len(emulator.requests()) == 1


@pytest.mark.parametrize(("answer", "status"), [(401, 3), (402, 4)], ids=["wrong-key", "no-credits"])
def test_wrong_key_or_no_credits_stops_the_batch(emulator: Emulator, tmp_path: Path, answer: int, status: int) -> None:
    """The first 401 or 402 stops sending: the other lines are not sent, and the exit status says why."""
    emulator.add_key("sk-poor", credits=0)
    key = "sk-wrong" if answer == 401 else "sk-poor"
    jobs, out = _jobs(tmp_path, *({"prompt": f"p{n}", **SMALL} for n in range(6))), tmp_path / "out"
    result = _run(emulator.base_url, jobs, out, "--concurrency", "2", key=key)
    assert result.returncode == status, result.stderr
    sent = emulator.requests()
    assert 1 <= len(sent) <= 2  # the lines in flight when the first answer came; never all six
    assert {r.status for r in sent} == {answer}
    rows = {line.split()[0]: line.split()[1:3] for line in result.stdout.splitlines()[1:7]}
    assert sorted(rows[str(n)][1] for n in range(1, 7) if rows[str(n)][0] == "failed") == sorted(
        r.request_id for r in sent
    )
    assert sum(rows[str(n)] == ["not", "sent"] for n in range(1, 7)) == 6 - len(sent)
    assert f"0 done, 0 skipped, {len(sent)} failed, {6 - len(sent)} not sent" in result.stdout
    assert f"qubrid-video: error: the batch stopped at the first {answer} answer" in result.stderr
    again = _run(emulator.base_url, jobs, out, "--dry-run")
    assert again.stdout.startswith("batch plan: 6 generations"), again.stdout  # nothing was billed


def test_manifest_that_cannot_be_written_names_every_paid_video(emulator: Emulator, tmp_path: Path) -> None:
    """The manifest fails after a line was paid for: nothing more is sent, and the summary's advice holds."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}, {"prompt": "b", **SMALL}), tmp_path / "out"
    # One record fits under 400 bytes, two do not; nor does a video.
    with _child(emulator, jobs, out, file_size_limit=400) as proc:
        stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 11, stderr
    [sent] = emulator.requests()
    assert "run the same command again to download" not in stdout
    assert "the manifest could not be written" in stderr
    assert "the URLs above are the only record" in stderr
    [advice] = [line.strip() for line in stdout.splitlines() if line.strip().startswith("qubrid-video download ")]
    words = shlex.split(advice)
    assert words[3:] == ["--request-id", sent.request_id, "-o", str(out / "line-0001.mp4")]
    assert f"| video: {words[2]}" in stdout  # the table shows the URL too
    assert "line 2: not sent: the manifest cannot be written" in stdout
    saved = subprocess.run([QUBRID_VIDEO, *words[1:]], capture_output=True, text=True, timeout=60, check=False)
    assert saved.returncode == 0, saved.stderr
    assert probe(Path(words[-1]))["width"] == 720
    assert len(emulator.requests()) == 1
