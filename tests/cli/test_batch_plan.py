"""``qubrid-video batch --dry-run`` and the plan line: every line checked, what a run would cost, nothing sent."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from qubrid_video_emulator import Emulator

from ..media import png, wav
from .test_batch import QUBRID_VIDEO, SMALL, _batch, _jobs


def _dry_run(emulator: Emulator, jobs: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """The command as a user without a key runs it; the emulator's address proves nothing reaches it."""
    env = {**os.environ, "QUBRID_API_KEY": "", "QUBRID_BASE_URL": emulator.base_url}
    return subprocess.run([QUBRID_VIDEO, "batch", str(jobs), "--out", str(out), "--dry-run"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_dry_run_totals_seconds_per_resolution_and_sends_nothing(emulator: Emulator, tmp_path: Path) -> None:
    """No key needed, no request, no directory: the count and seconds per resolution, with the documented defaults."""
    (tmp_path / "voice.wav").write_bytes(wav(seconds=2.5))
    jobs = _jobs(
        tmp_path,
        {"prompt": "defaults"},
        {"prompt": "explicit", "duration": 3, "resolution": "1080p"},
        {"prompt": "wav sets the length", "resolution": "1080p", "audio": "voice.wav"},
        {"prompt": "remote audio", "audio": "https://example.com/a.mp3"},
    )
    result = _dry_run(emulator, jobs, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "batch plan: 4 generations (720p: 10 s, 1080p: 6 s); 1 line with audio of unknown length counted at 5 s"
    ]
    assert emulator.journal() == {"requests": [], "downloads": []}
    assert not (tmp_path / "out").exists()


def test_dry_run_reports_every_invalid_line(emulator: Emulator, tmp_path: Path) -> None:
    """Types, values, missing or irregular files, URLs and outputs: each line's error by number; exit 2."""
    (tmp_path / "in.png").write_bytes(png())
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")
    lines = [
        ({"prompt": "a", "duration": "5"}, "duration: expected a positive whole number, got a string"),
        ({"prompt": "a", "fps": 0}, "fps: must be a positive whole number, got 0"),
        ({"prompt": "a", "draft": "yes"}, "draft: expected true or false, got a string"),
        ({"prompt": "a", "image": "missing.png"}, f"image: no such file: {tmp_path / 'missing.png'}"),
        ({"prompt": "a", "image": "folder"}, "is a directory"),
        ({"prompt": "a", "audio": "pipe"}, "is not a regular file"),
        ({"prompt": "a", "audio": "ftp://example.com/a.mp3"}, "only http(s) URLs"),
        ({"prompt": "a", "model": ""}, "model: must not be empty"),
        ({"prompt": "a", "colour": "red"}, "unknown field 'colour'"),
        ({"prompt": ["a"]}, "prompt: expected a string, got an array"),
        ({"prompt": "a", "image": "in.png", "output": "x.mp4"}, None),
        ({"prompt": "a", "output": "x.mp4"}, "'x.mp4' is already the output of line 11"),
    ]
    jobs = _jobs(tmp_path, *(line for line, _ in lines))
    result = _dry_run(emulator, jobs, tmp_path / "out")
    assert result.returncode == 2, result.stderr
    reported = {int(text.split(":")[0].split()[1]): text for text in result.stdout.splitlines()[:-1]}
    assert sorted(reported) == [n for n, (_, error) in enumerate(lines, start=1) if error]
    for number, (_, error) in enumerate(lines, start=1):
        assert error is None or error in reported[number], (number, reported.get(number))
    assert result.stdout.splitlines()[-1] == "batch plan: 1 generation (720p: 5 s), 11 invalid"
    assert emulator.journal() == {"requests": [], "downloads": []}


def test_dry_run_counts_what_the_ledger_already_holds(emulator: Emulator, tmp_path: Path) -> None:
    """After a partly failed run, the plan counts downloads only and finished lines, not generations."""
    jobs, out = _jobs(tmp_path, {"prompt": "a", **SMALL}, {"prompt": "b", **SMALL}), tmp_path / "out"
    emulator.inject("drop_download", count=6)
    assert _batch(emulator, jobs, out, "--concurrency", "1").exit_code == 11
    before = emulator.journal()
    result = _dry_run(emulator, jobs, out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "batch plan: 0 generations, 1 download only, 1 already done"
    assert emulator.journal() == before


def test_real_run_prints_the_plan_first(emulator: Emulator, tmp_path: Path) -> None:
    """Before anything is sent, a real run prints the same plan line on stderr."""
    jobs = _jobs(tmp_path, {"prompt": "a", **SMALL}, {"prompt": "b", **SMALL}, "{broken")
    result = _batch(emulator, jobs, tmp_path / "out")
    assert result.exit_code == 11, result.output
    assert result.stderr.splitlines()[0] == "batch plan: 2 generations (720p: 2 s), 1 invalid"
    assert json.loads((tmp_path / "out" / "manifest.jsonl").read_text().splitlines()[0])["line"] in (1, 2)


def test_duplicate_keys_fail_their_line(emulator: Emulator, tmp_path: Path) -> None:
    """A line giving a field twice is refused by number (not the last value silently winning); nothing is sent."""
    jobs = _jobs(
        tmp_path,
        '{"prompt": "a", "duration": 1, "duration": 9}',
        '{"prompt": "b", "output": "x.mp4", "output": "y.mp4"}',
        {"prompt": "fine"},
    )
    result = _dry_run(emulator, jobs, tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert result.stdout.splitlines() == [
        "line 1: field 'duration' is given twice",
        "line 2: field 'output' is given twice",
        "batch plan: 1 generation (720p: 5 s), 2 invalid",
    ]
    assert emulator.journal() == {"requests": [], "downloads": []}
