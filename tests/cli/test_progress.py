"""Progress as a user sees it: the real command on a pseudo-terminal, its output replayed on a VT100 screen.

Every display must end cleanly: its last line complete, nothing left over from a longer earlier
draw, and the next output on a line of its own; whether the size is known or not, and whether
the work succeeded or failed. Without a terminal nothing progress-like may be written at all.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from qubrid_video_emulator import Emulator, EmulatorConfig

from ..hostile import VIDEO, hostile, raw_answer
from ..processes import command
from ..terminal import in_terminal

SMALL = ["--duration", "1", "--aspect-ratio", "1:1"]
SPINNER_DONE = re.compile(r"^✓ generating with p-video \d+\.\ds$")
SIZED_DONE = re.compile(r"^downloading: 100%\|█+\| (\d+(?:\.\d+)?k?)B/\1B \[\d\d:\d\d<00:00, [\d.]+[kM]?B/s\]$")
SOME_BYTES_SHOWN = re.compile(rb"\rdownloading: [^\r]*\| [1-9][\d.]*k?B/")
UNSIZED_DONE = re.compile(r"^downloading: 16\.4kB \[\d\d:\d\d, [\d.]+[kM]?B/s\]$")


def _env(base_url: str, key: str) -> dict[str, str]:
    # UTF-8 whatever the machine's locale, so the bar's characters are the same everywhere.
    return {**os.environ, "QUBRID_API_KEY": key, "QUBRID_BASE_URL": base_url, "PYTHONUTF8": "1"}


def _draws(raw: bytes, label: bytes) -> int:
    """How many times a line starting with `label` was (re)drawn."""
    return raw.count(b"\r" + label)


def test_a_sized_download_ends_its_bar_cleanly(tmp_path: Path) -> None:
    """Known size (Content-Length): the spinner and the bar each end complete on their own line; `saved` follows."""
    with Emulator(EmulatorConfig(latency=0.5)) as emulator:
        emulator.inject("slow_download", delay=2.0)
        session = in_terminal(command("generate", "A fox", *SMALL, "-o", str(tmp_path / "fox.mp4")),
                              _env(emulator.base_url, emulator.api_key))  # fmt: skip
    assert session.returncode == 0, session.lines
    assert _draws(session.raw, b"downloading") >= 3  # redrawn in place, not drawn once at the end
    spinner, bar, saved = session.lines[:3]
    assert SPINNER_DONE.match(spinner), spinner
    assert SIZED_DONE.match(bar), bar
    assert saved.startswith(f"saved {tmp_path / 'fox.mp4'} (")


def _api_for(video_url: str, request_id: str = "req-1") -> bytes:
    body = json.dumps({"created": 1, "data": [{"url": video_url}]}).encode()
    return raw_answer("200 OK", body, "Content-Type: application/json", f"x-request-id: {request_id}")


def test_an_unsized_download_shows_bytes_and_rate_and_ends_its_line(tmp_path: Path) -> None:
    """Unknown size (chunked, no Content-Length): bytes and rate, a finished line, `saved` on the next line."""
    with hostile("chunked:0.15") as (cdn, _), hostile("canned", answer=_api_for(f"{cdn}/fox.mp4")) as (api, _):
        session = in_terminal(command("generate", "A fox", "-o", str(tmp_path / "fox.mp4")), _env(api, "sk-x"))
    assert session.returncode == 0, session.lines
    assert _draws(session.raw, b"downloading") >= 3
    assert (tmp_path / "fox.mp4").read_bytes() == VIDEO
    spinner, bar, saved, *_ = session.lines
    assert SPINNER_DONE.match(spinner), spinner
    assert UNSIZED_DONE.match(bar), bar
    assert saved.startswith(f"saved {tmp_path / 'fox.mp4'} (16.4 kB), request req-1")


def test_a_failed_download_ends_its_bar_before_the_error(tmp_path: Path) -> None:
    """A download that keeps failing: the bar's line ends (marked ✗) and the report starts on a line of its own."""
    with Emulator() as emulator:
        emulator.inject("drop_download", count=6, cut_at=0.9)
        session = in_terminal(command("generate", "A fox", *SMALL, "-o", str(tmp_path)),
                              _env(emulator.base_url, emulator.api_key))  # fmt: skip
    assert session.returncode == 10, session.lines
    bar, error = session.after("✗ downloading")[:2]
    assert re.match(r"^✗ downloading: +\d+%\|.*\] *$", bar), bar
    assert bar.endswith("]")
    assert error.startswith("qubrid-video: error: the download kept failing")


def test_ctrl_c_during_the_download_ends_the_bar_before_the_report(tmp_path: Path) -> None:
    """SIGINT while the bar is drawn: its line ends (marked ✗), and the report starts on a line of its own."""
    with Emulator() as emulator:
        emulator.inject("slow_download", delay=30)
        session = in_terminal(command("generate", "A fox", *SMALL, "-o", str(tmp_path)),
                              _env(emulator.base_url, emulator.api_key), interrupt_on=SOME_BYTES_SHOWN)  # fmt: skip
    assert session.returncode == 130, session.lines
    bar, error = session.after("✗ downloading")[:2]
    assert bar.endswith("]"), bar
    assert error == "qubrid-video: error: interrupted; nothing partial was left on disk"
    assert list(tmp_path.iterdir()) == []


def test_the_batch_tally_ends_its_line_before_the_summary(tmp_path: Path) -> None:
    """The batch's bar ends at n/n with the counts, then the summary starts on the next line; a rate-limit
    notice printed meanwhile gets a line of its own, the bar redrawn below it."""
    jobs, out = tmp_path / "jobs.jsonl", tmp_path / "out"
    jobs.write_text("".join(json.dumps({"prompt": f"p{i}", "duration": 1, "aspect_ratio": "1:1"}) + "\n"
                            for i in range(3)))  # fmt: skip
    with Emulator(EmulatorConfig(latency=0.2)) as emulator:
        emulator.inject("429", count=3, retry_after=0.05)  # the first request and the client's two retries
        session = in_terminal(command("batch", str(jobs), "--out", str(out), "--concurrency", "1"),
                              _env(emulator.base_url, emulator.api_key))  # fmt: skip
    assert session.returncode == 0, session.lines
    notice, tally, following = session.after("qubrid-video: rate limited")[:3]
    assert notice == "qubrid-video: rate limited: pausing all lines for 0.05 s"
    assert re.match(r"^batch \|█{24}\| 3/3, ✓ 3  ✗ 0  running 0$", tally), tally
    assert not following.startswith("batch")


def test_nothing_progress_like_reaches_a_stderr_that_is_not_a_terminal(tmp_path: Path) -> None:
    """Piped, a slow download writes nothing at all to stderr: no bar, no spinner, no carriage return."""
    with Emulator(EmulatorConfig(latency=0.3)) as emulator:
        emulator.inject("slow_download", delay=1.0)
        result = subprocess.run(command("generate", "A fox", *SMALL, "-o", str(tmp_path / "fox.mp4")),
                                env=_env(emulator.base_url, emulator.api_key), capture_output=True, text=True,
                                timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"saved {tmp_path / 'fox.mp4'} (")
    assert "\r" not in result.stdout


def test_a_terminal_with_no_width_gets_no_progress_and_no_blank_lines(tmp_path: Path) -> None:
    """A pty nobody sized (0 columns, as under `script -qc CMD >/dev/null`) is treated as a pipe: only `saved`."""
    with Emulator(EmulatorConfig(latency=0.3)) as emulator:
        session = in_terminal(command("generate", "A fox", *SMALL, "-o", str(tmp_path / "fox.mp4")),
                              _env(emulator.base_url, emulator.api_key), size=(0, 0))  # fmt: skip
    assert session.returncode == 0, session.raw
    assert session.raw.startswith(b"saved "), session.raw
    assert b"generating" not in session.raw


def test_without_tqdm_the_command_says_which_extra_to_install(tmp_path: Path) -> None:
    """A missing tqdm is reported before any command runs (exit 2, the extra named), never after a paid generation."""
    script = tmp_path / "without_tqdm.py"
    script.write_text("import sys\nsys.modules['tqdm'] = None\nfrom qubrid_video_cli import main\nmain()\n")
    result = subprocess.run([sys.executable, str(script), "generate", "A fox", "--emulator"], capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 2
    assert "needs tqdm" in result.stderr
    assert "pip install 'qubrid-video[cli]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_does_not_import_the_progress_library() -> None:
    """tqdm is imported only when something is drawn: --help and piped runs do not pay for it."""
    probe = ("import sys\nfrom click.testing import CliRunner\nfrom qubrid_video_cli._commands import cli\n"
             "assert CliRunner().invoke(cli, ['generate', '--help']).exit_code == 0\n"
             "print('tqdm' in sys.modules)\n")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout == "False\n"
