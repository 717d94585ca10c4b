"""The qubrid-video command through its real entry point, against the emulator."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from qubrid_video_cli._commands import cli
from qubrid_video_emulator import Emulator, EmulatorConfig, KeyPolicy

from ..media import png, probe

ROOT = Path(__file__).resolve().parents[2]
QUBRID_VIDEO = str(Path(sys.executable).parent / "qubrid-video")
SMALL = ["--duration", "1", "--aspect-ratio", "1:1"]


def _env(emulator: Emulator, key: str | None = None) -> dict[str, str]:
    return {"QUBRID_API_KEY": key or emulator.api_key, "QUBRID_BASE_URL": emulator.base_url}


def _invoke(emulator: Emulator, args: list[str], key: str | None = None) -> Any:
    return CliRunner().invoke(cli, args, env=_env(emulator, key), catch_exceptions=False)


def test_every_option_reaches_the_request(emulator: Emulator, tmp_path: Path) -> None:
    """Each generate option shows up in the request the emulator received."""
    image = tmp_path / "cat.png"
    image.write_bytes(png())
    args = ["generate", "A fox", "--model", "p-video", "--image", str(image), "--audio", "https://example.com/a.mp3",
            "--duration", "1", "--resolution", "720p", "--fps", "48", "--aspect-ratio", "1:1", "--draft",
            "--no-save-audio", "--no-prompt-upsampling", "-o", str(tmp_path), "--json"]  # fmt: skip
    result = _invoke(emulator, args)
    assert result.exit_code == 0, result.output
    (entry,) = emulator.requests()
    assert entry.fields == {"model": "p-video", "prompt": "A fox", "duration": "1", "resolution": "720p",
                               "fps": "48", "aspect_ratio": "1:1", "audio": "https://example.com/a.mp3",
                               "draft": "true", "save_audio": "false", "prompt_upsampling": "false"}  # fmt: skip
    assert entry.files["image_file"].filename == "cat.png"
    output = json.loads(result.stdout)
    assert set(output) == {"path", "size", "url", "request_id", "created"}
    assert Path(output["path"]).parent == tmp_path
    assert Path(output["path"]).stat().st_size == output["size"]
    assert output["request_id"] == entry.request_id


def test_unused_flags_leave_the_documented_defaults(emulator: Emulator, tmp_path: Path) -> None:
    """Without flags the JSON body carries the spec's defaults (the generated model fills them in)."""
    result = _invoke(emulator, ["generate", "A fox", *SMALL, "-o", str(tmp_path / "v.mp4")])
    assert result.exit_code == 0, result.output
    assert emulator.requests()[0].fields == {"model": "p-video", "prompt": "A fox", "duration": 1,
                                                "aspect_ratio": "1:1", "draft": False,
                                                "save_audio": True, "prompt_upsampling": True}  # fmt: skip
    assert result.stdout.startswith(f"saved {tmp_path / 'v.mp4'} (")
    assert emulator.requests()[0].request_id in result.stdout


@pytest.mark.parametrize(
    ("setup", "args", "status", "text"),
    [
        ("key:sk-wrong", [], 3, "invalid_api_key"),
        ("key:sk-poor", [], 4, "insufficient_quota"),
        ("key:sk-narrow", ["--model", "p-pro"], 5, "Permission denied"),
        (None, ["--model", "nope"], 6, "model_not_found"),
        ("inject:429", [], 7, "rate_limit_exceeded"),
        ("inject:500", [], 8, "may have run and been billed"),
        ("inject:drop_before", [], 9, "lost after the request was sent"),
        (None, ["--resolution", "9k"], 2, "param: resolution"),
        (None, ["--duration", "0"], 2, "duration: must be a positive"),
    ],
)
def test_exit_status_per_error_class(
    tmp_path: Path, setup: str | None, args: list[str], status: int, text: str
) -> None:
    """Each error class exits with its documented status and one line naming the problem, no traceback."""
    config = EmulatorConfig(
        keys={"sk-ok": KeyPolicy(), "sk-poor": KeyPolicy(credits=0), "sk-narrow": KeyPolicy(models={"p-video"})},
        models={"p-video", "p-pro"},
    )
    with Emulator(config) as emulator:
        key = setup.split(":", 1)[1] if setup and setup.startswith("key:") else "sk-ok"
        if setup and setup.startswith("inject:"):
            emulator.inject(setup.split(":", 1)[1], count=5, retry_after=0.01)
        result = _invoke(emulator, ["generate", "A fox", *SMALL, *args, "-o", str(tmp_path)], key=key)
        request_ids = [e.request_id for e in emulator.requests()]
    assert result.exit_code == status, result.output
    lines = result.stderr.strip().splitlines()
    # A failure that may have been billed adds one line: the key that replays it instead of re-billing.
    billed = setup in ("inject:500", "inject:drop_before")
    assert len(lines) == 1 + billed
    assert lines[0].startswith("qubrid-video: error: ")
    assert not billed or lines[1].startswith("qubrid-video: to get this generation without paying twice")
    assert text in lines[0]
    assert "Traceback" not in result.output
    if request_ids and status != 9:
        assert request_ids[-1] in lines[0]


def test_wrong_base_url_is_not_a_missing_model(emulator: Emulator, tmp_path: Path) -> None:
    """A 404 from a base URL missing /v1 exits 12 and points at the base URL; an unknown model still exits 6."""
    env = {"QUBRID_API_KEY": emulator.api_key, "QUBRID_BASE_URL": emulator.base_url.removesuffix("/v1")}
    wrong = CliRunner().invoke(cli, ["generate", "A fox", *SMALL, "-o", str(tmp_path)], env=env)
    assert wrong.exit_code == 12, wrong.output
    (line,) = wrong.stderr.strip().splitlines()
    assert line.startswith("qubrid-video: error: HTTP 404 not_found ")
    assert "QUBRID_BASE_URL" in line
    assert "model" not in line
    unknown = _invoke(emulator, ["generate", "A fox", *SMALL, "--model", "nope", "-o", str(tmp_path)])
    assert unknown.exit_code == 6, unknown.output
    assert "model_not_found" in unknown.stderr
    assert "QUBRID_BASE_URL" not in unknown.stderr


def test_missing_key_says_how_to_fix_it(tmp_path: Path) -> None:
    """No key and no --emulator: exit 3, naming QUBRID_API_KEY and --emulator."""
    result = CliRunner().invoke(cli, ["generate", "A fox"], env={"QUBRID_API_KEY": ""})
    assert result.exit_code == 3
    assert "QUBRID_API_KEY" in result.stderr
    assert "--emulator" in result.stderr


def test_existing_output_is_kept(emulator: Emulator, tmp_path: Path) -> None:
    """An existing file is not replaced without --overwrite (exit 10), and is with it."""
    target = tmp_path / "v.mp4"
    target.write_bytes(b"keep")
    assert _invoke(emulator, ["generate", "A fox", *SMALL, "-o", str(target)]).exit_code == 10
    assert target.read_bytes() == b"keep"
    assert _invoke(emulator, ["generate", "A fox", *SMALL, "-o", str(target), "--overwrite"]).exit_code == 0
    assert target.read_bytes() != b"keep"


def test_debug_shows_the_traceback(emulator: Emulator, tmp_path: Path) -> None:
    """--debug prints the traceback before the one-line report, and keeps the class's exit status."""
    emulator.inject("500")
    result = CliRunner().invoke(cli, ["generate", "x", *SMALL, "--debug", "-o", str(tmp_path)], env=_env(emulator))
    assert result.exit_code == 8
    assert "Traceback (most recent call last)" in result.stderr
    assert "qubrid_video.InternalServerError: HTTP 500" in result.stderr


def test_emulator_flag_needs_no_key(tmp_path: Path) -> None:
    """--emulator runs in-process, with no key in the environment, and saves a real video."""
    result = CliRunner().invoke(cli, ["generate", "A fox", *SMALL, "--emulator", "--json", "-o", str(tmp_path)],
                                env={"QUBRID_API_KEY": ""})  # fmt: skip
    assert result.exit_code == 0, result.output
    video = probe(Path(json.loads(result.stdout)["path"]))
    assert (video["width"], video["height"], video["fps"]) == (720, 720, 24)


def _jobs(tmp_path: Path) -> Path:
    (tmp_path / "in.png").write_bytes(png())
    lines = [
        {"prompt": "one", "duration": 1, "aspect_ratio": "1:1"},
        {"prompt": "two", "duration": 1, "aspect_ratio": "1:1", "image": "in.png", "output": "two.mp4"},
        "{broken json",
        {"prompt": "four", "duration": 1, "aspect_ratio": "1:1", "draft": True},
    ]
    path = tmp_path / "jobs.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_batch_runs_reports_and_resumes(emulator: Emulator, tmp_path: Path) -> None:
    """Lines run concurrently; a bad line is reported by number; a re-run re-sends nothing finished."""
    jobs, out = _jobs(tmp_path), tmp_path / "out"
    first = _invoke(emulator, ["batch", str(jobs), "--out", str(out), "--concurrency", "3"])
    assert first.exit_code == 11, first.output
    assert "line 3: invalid JSON" in first.stdout
    assert "3 done, 0 skipped, 1 failed" in first.stdout
    assert sorted(p.name for p in out.iterdir()) == ["line-0001.mp4", "line-0004.mp4", "manifest.jsonl", "two.mp4"]
    assert len(emulator.requests()) == 3
    assert emulator.requests()[0].idempotency_key.startswith("qv-batch-")
    second = _invoke(emulator, ["batch", str(jobs), "--out", str(out)])
    assert "0 done, 3 skipped, 1 failed" in second.stdout
    assert len(emulator.requests()) == 3  # nothing finished was sent again
    assert second.exit_code == 11


def test_batch_downloads_what_was_generated_but_not_saved(emulator: Emulator, tmp_path: Path) -> None:
    """A line generated before a crash is downloaded on the re-run, not generated again."""
    jobs, out = _jobs(tmp_path), tmp_path / "out"
    _invoke(emulator, ["batch", str(jobs), "--out", str(out)])
    (out / "line-0001.mp4").unlink()
    manifest = out / "manifest.jsonl"
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    generated = next(r for r in records if r["line"] == 1 and r["status"] == "generated")
    with manifest.open("a") as handle:
        handle.write(json.dumps(generated) + "\n")
    _invoke(emulator, ["batch", str(jobs), "--out", str(out)])
    assert len(emulator.requests()) == 3
    assert (out / "line-0001.mp4").exists()


def test_batch_leaves_possibly_billed_lines_alone(emulator: Emulator, tmp_path: Path) -> None:
    """A line that failed after it may have been billed is not re-sent unless --retry-uncertain."""
    jobs, out = tmp_path / "jobs.jsonl", tmp_path / "out"
    jobs.write_text(json.dumps({"prompt": "p", "duration": 1, "aspect_ratio": "1:1"}) + "\n")
    emulator.inject("500")
    assert _invoke(emulator, ["batch", str(jobs), "--out", str(out)]).exit_code == 11
    again = _invoke(emulator, ["batch", str(jobs), "--out", str(out)])
    assert len(emulator.requests()) == 1
    assert "skipped" in again.stdout
    assert _invoke(emulator, ["batch", str(jobs), "--out", str(out), "--retry-uncertain"]).exit_code == 0
    assert len(emulator.requests()) == 2


def test_batch_backs_off_as_a_whole_on_429(emulator: Emulator, tmp_path: Path) -> None:
    """Rate limits beyond the client's own retries pause the whole batch, then every line completes."""
    jobs, out = tmp_path / "jobs.jsonl", tmp_path / "out"
    jobs.write_text("".join(json.dumps({"prompt": f"p{i}", "duration": 1, "aspect_ratio": "1:1"}) + "\n"
                            for i in range(4)))  # fmt: skip
    emulator.inject("429", count=6, retry_after=0.05)
    result = _invoke(emulator, ["batch", str(jobs), "--out", str(out), "--concurrency", "4"])
    assert result.exit_code == 0, result.output
    assert "4 done, 0 skipped, 0 failed" in result.stdout
    assert emulator.generations == 4


def test_json_output_stays_clean_without_a_terminal(emulator: Emulator, tmp_path: Path) -> None:
    """Piped, --json prints exactly one JSON object and no progress at all."""
    command = [QUBRID_VIDEO, "generate", "A fox", *SMALL, "--json", "-o", str(tmp_path)]
    result = subprocess.run(command, env={**os.environ, **_env(emulator)}, capture_output=True, text=True,
                            timeout=60, check=True)  # fmt: skip
    assert result.stderr == ""
    assert len(result.stdout.strip().splitlines()) == 1
    assert json.loads(result.stdout)["request_id"]


def test_make_demo_script(tmp_path: Path) -> None:
    """The README's main command: a real image-to-video clip, read back as 1280x720, 24 fps, 5 s."""
    env = {k: v for k, v in os.environ.items() if k != "QUBRID_API_KEY"}
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "demo.py")], env=env, capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    assert "1280x720, 24 fps, 5.00 s, h264" in result.stdout
    assert "built-in emulator" in result.stdout


def test_version_names_the_sdk_and_python() -> None:
    """--version prints the SDK's version and the Python running it, and exits 0."""
    import qubrid_video

    result = subprocess.run([QUBRID_VIDEO, "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout == f"qubrid-video {qubrid_video.__version__} (Python {platform.python_version()})\n"


def test_python_m_runs_the_command(emulator: Emulator, tmp_path: Path) -> None:
    """`python -m qubrid_video_cli` is the same command: --version, and a real generation."""
    version = subprocess.run([sys.executable, "-m", "qubrid_video_cli", "--version"], capture_output=True, text=True,
                             timeout=60, check=True)  # fmt: skip
    assert version.stdout.startswith("qubrid-video ")
    result = subprocess.run([sys.executable, "-m", "qubrid_video_cli", "generate", "A fox", *SMALL, "--json", "-o",
                             str(tmp_path)], env={**os.environ, **_env(emulator)}, capture_output=True, text=True,
                            timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert Path(json.loads(result.stdout)["path"]).is_file()
    assert len(emulator.requests()) == 1


def test_help_lists_exit_statuses() -> None:
    """--help documents every exit status."""
    text = CliRunner().invoke(cli, ["generate", "--help"]).output
    for status in ("2 usage", "3 authentication", "4 insufficient credits", "6 model not found", "7 rate limited",
                   "12 not found (404): check the base URL (QUBRID_BASE_URL)", "130 interrupted"):  # fmt: skip
        assert status in " ".join(text.split())
