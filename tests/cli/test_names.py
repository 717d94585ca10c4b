"""The name `generate` gives a video saved into a directory: ``<prompt-slug>-<request id>.mp4``, safe and free."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qubrid_video._staging import VIDEO_EXTENSIONS as SDK_EXTENSIONS
from qubrid_video._staging import safe_name
from qubrid_video_cli._jobs import check_name
from qubrid_video_cli._names import LONGEST, VIDEO_EXTENSIONS, default_name, slug
from qubrid_video_emulator import Emulator

from ..hostile import VIDEO, hostile, raw_answer
from ..processes import command

SMALL = ["--duration", "1", "--aspect-ratio", "1:1"]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("A red fox, in the snow!", "a-red-fox-in-the-snow"),
        ("Ein Fuchs läuft über den Schnee", "ein-fuchs-lauft-uber-den-schnee"),
        ("\uff26\uff55\uff4c\uff4c \uff26\uff2f\uff38", "full-fox"),  # fullwidth letters fold to ASCII
        ("狐狸在雪地里", "video"),
        ("  ...  ", "video"),
        ("one two three four five six seven eight nine ten", "one-two-three-four-five-six-seven-eight"),
        ("x" * 60 + " fox", "x" * 40),
        ("../../etc/passwd\x00\n\x1b[31m", "etc-passwd-31m"),
    ],
    ids=["words", "accents", "fullwidth", "no-ascii", "punctuation", "long", "one-long-word", "hostile"],
)
def test_slug(prompt: str, expected: str) -> None:
    """ASCII-folded lower-case words joined by '-', whole words up to 40 characters, 'video' when none."""
    assert slug(prompt) == expected
    assert len(slug(prompt)) <= 40


@pytest.mark.parametrize(
    ("prompt", "request_id", "url", "expected"),
    [
        ("A fox", "req-qubrid-4589de1e", "https://cdn.example/v/9f8e7d.mp4", "a-fox-req-qubrid-4589de1e.mp4"),
        ("A fox", "req-1", "https://cdn.example/v/clip.WEBM?sig=abc", "a-fox-req-1.webm"),
        ("A fox", "req-1", "https://cdn.example/v/clip.php", "a-fox-req-1.mp4"),
        ("A fox", "req-1", "https://cdn.example/download", "a-fox-req-1.mp4"),
        ("A fox", "req-1", "https://cdn.example/v/a%2Emov", "a-fox-req-1.mov"),
        ("A fox", None, "https://cdn.example/v.mp4", "a-fox.mp4"),
        ("A fox", "../../x y\u009b31m", "https://cdn.example/v.mp4", "a-fox-x_y_31m.mp4"),
        ("A fox", "." * 10, "https://cdn.example/v.mp4", "a-fox.mp4"),
        ("A fox", "r" * 100, "https://cdn.example/v.mp4", "a-fox-" + "r" * 64 + ".mp4"),
        ("con", None, "https://cdn.example/v.mp4", "video-con.mp4"),
        ("A fox", "req-1", "http://[::1", "a-fox-req-1.mp4"),
    ],
    ids=["usual", "url-extension", "not-a-video-extension", "no-extension", "quoted-extension", "no-request-id",
         "hostile-id", "dots-only-id", "long-id", "windows-device", "bad-url"],
)  # fmt: skip
def test_default_name(prompt: str, request_id: str | None, url: str, expected: str) -> None:
    """Slug, sanitised request id, the URL's video extension or .mp4; always a portable, bounded file name."""
    name = default_name(prompt, request_id, url)
    assert name == expected
    assert check_name(name) == name
    assert len(name) <= LONGEST


def _env(emulator: Emulator) -> dict[str, str]:
    return {**os.environ, "QUBRID_API_KEY": emulator.api_key, "QUBRID_BASE_URL": emulator.base_url}


def _generate(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command("generate", *args), env=env, capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip


def test_generate_names_the_file_after_the_prompt_and_request(emulator: Emulator, tmp_path: Path) -> None:
    """Into a directory, the video is saved as <prompt-slug>-<request id>.mp4."""
    result = _generate(_env(emulator), "A red fox, in the snow!", *SMALL, "--json", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (entry,) = emulator.requests()
    expected = tmp_path / f"a-red-fox-in-the-snow-{entry.request_id}.mp4"
    assert json.loads(result.stdout)["path"] == str(expected)
    assert [p.name for p in tmp_path.iterdir()] == [expected.name]


def _api(video_url: str, request_id: str) -> bytes:
    body = json.dumps({"created": 1, "data": [{"url": video_url}]}).encode()
    return raw_answer("200 OK", body, "Content-Type: application/json", f"x-request-id: {request_id}")


def test_a_taken_default_name_gets_a_free_one_and_overwrite_replaces_it(tmp_path: Path) -> None:
    """A file already holding the default name is kept and the video takes NAME-2; --overwrite replaces it."""
    taken = tmp_path / "a-fox-req-1.webm"
    taken.write_bytes(b"keep")
    with hostile("video") as (cdn, _), hostile("canned", answer=_api(f"{cdn}/clip.webm", "req-1")) as (api, _):
        env = {**os.environ, "QUBRID_API_KEY": "sk-x", "QUBRID_BASE_URL": api}
        first = _generate(env, "A fox", "-o", str(tmp_path))
        replaced = _generate(env, "A fox", "-o", str(tmp_path), "--overwrite")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"saved {tmp_path / 'a-fox-req-1-2.webm'} (")
    assert (tmp_path / "a-fox-req-1-2.webm").read_bytes() == VIDEO
    assert replaced.returncode == 0, replaced.stderr
    assert taken.read_bytes() == VIDEO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-fox-req-1-2.webm", "a-fox-req-1.webm"]


def test_a_name_taken_during_the_download_gets_a_free_name_in_the_printed_command(tmp_path: Path) -> None:
    """A file appearing at -o while the video streams is left alone; the printed command saves beside it, and works."""
    target = tmp_path / "fox.mp4"
    with hostile("trickle:0.3") as (cdn, _), hostile("canned", answer=_api(f"{cdn}/v.mp4", "req-1")) as (api, _):
        env = {**os.environ, "QUBRID_API_KEY": "sk-x", "QUBRID_BASE_URL": api}
        with subprocess.Popen(command("generate", "A fox", "-o", str(target)), env=env, stderr=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, text=True) as proc:  # fmt: skip
            deadline = time.monotonic() + 60
            while not any(p.suffix == ".part" for p in tmp_path.iterdir()):  # the download has begun
                assert time.monotonic() < deadline, "the download never started"
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.01)
            target.write_bytes(b"keep")
            _, errors = proc.communicate(timeout=60)
        assert proc.returncode == 10, errors
        assert "appeared while the video was being made; it was left alone" in errors
        line = next(line for line in errors.splitlines() if line.startswith("qubrid-video: to save it: "))
        words = shlex.split(line.removeprefix("qubrid-video: to save it: "))
        assert words[-2:] == ["-o", str(tmp_path / "fox-2.mp4")]
        saved = subprocess.run(command(*words[1:]), env=env, capture_output=True, text=True, timeout=60, check=False)
    assert saved.returncode == 0, saved.stderr
    assert target.read_bytes() == b"keep"
    assert (tmp_path / "fox-2.mp4").read_bytes() == VIDEO[:8]


@given(path=st.text(max_size=300), request_id=st.one_of(st.none(), st.text(max_size=100)))
@settings(max_examples=300, deadline=None)
def test_the_sdks_names_from_urls_pass_the_clis_rules(path: str, request_id: str | None) -> None:
    """Whatever a URL's path (percent-encoded or not), the name the SDK gives a download in a directory
    passes the CLI's own rules for a name, with one dot, before a video's extension."""
    name = safe_name(f"https://cdn.example/{path}", request_id)
    assert check_name(name) == name
    stem, dot, extension = name.partition(".")
    assert (dot, f".{extension}" in VIDEO_EXTENSIONS) == (".", True), name
    assert stem
    assert not stem.startswith(("-", "_"))


def test_the_sdk_and_the_cli_keep_the_same_video_extensions() -> None:
    """A URL's extension is kept by the SDK's names exactly when the CLI's default names keep it."""
    assert SDK_EXTENSIONS == VIDEO_EXTENSIONS


@pytest.mark.parametrize(
    ("path", "name"),
    [("setup.exe", "setup.mp4"), ("index.html", "index.mp4"), ("NUL.mp4", "video-NUL.mp4"), ("-rf.webm", "rf.webm")],
)
def test_download_into_a_directory_names_the_file_safely(tmp_path: Path, path: str, name: str) -> None:
    """``qubrid-video download URL -o DIRECTORY``: the server's extension, device name or leading dash never reaches the file name."""
    with hostile("video") as (base_url, _):
        url = f"{base_url}/files/{path}"
        result = subprocess.run(command("download", url, "-o", str(tmp_path), "--json"), capture_output=True,
                                text=True, timeout=120, check=False, env={k: v for k, v in os.environ.items()
                                                                          if not k.startswith("QUBRID_")})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == str(tmp_path / name)
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_bytes() == VIDEO
