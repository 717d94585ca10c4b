"""Downloads meeting local limits: a file-size limit, a directory without write permission, long names, memory.

Limits that would hit the test run itself (RLIMIT_FSIZE, dropping root, peak memory) are set in a
child process, which downloads from a loopback server of this one and reports what it saw as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import qubrid_video as qv

from ..conftest import ROOT
from ..downloading import FLAVOURS, check_failure, fetch
from ..hostile import VIDEO, hostile

_CHILD = """
import json, os, resource, shutil, signal, sys, tempfile
from pathlib import Path
import qubrid_video as qv
from tests.downloading import fetch, leaks
args = json.loads(sys.argv[1])
directory = Path(args["directory"])
if args["case"] == "file_size":
    # As a shell's `ulimit -f` would: writes past the limit fail with EFBIG instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
elif args["case"] == "read_only":
    if os.geteuid() == 0:
        # Root writes anywhere: become an ordinary user. The interpreter's own files may be
        # unreadable to that user, so one download as root first imports every module needed.
        warm = Path(tempfile.mkdtemp(dir=directory))
        assert fetch(args["flavour"], args["base_url"], args["url"], warm / "v.mp4").error is None
        shutil.rmtree(warm)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    directory = Path(tempfile.mkdtemp())
    directory.chmod(0o555)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
outcome = fetch(args["flavour"], args["base_url"], args["url"], directory / "v.mp4")
error = outcome.error
print(json.dumps({
    "type": type(error).__name__,
    "download_error": isinstance(error, qv.DownloadError),
    "url": getattr(error, "url", None),
    "message": str(error),
    "leaks": leaks(error) if error is not None else [],
    "left": os.listdir(directory),
    "size": outcome.path.stat().st_size if outcome.path else None,
    "peak_growth": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before,
}))
if args["case"] == "read_only":
    directory.chmod(0o755)
    directory.rmdir()
"""


def _child(case: str, flavour: str, base_url: str, url: str, directory: Path) -> dict[str, Any]:
    arguments = {"case": case, "flavour": flavour, "base_url": base_url, "url": url, "directory": str(directory)}
    result = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(arguments)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.parametrize("case", ["file_size", "read_only"])
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_local_write_failures_are_download_errors(flavour: str, case: str, tmp_path: Path) -> None:
    """A write past RLIMIT_FSIZE (SIGXFSZ ignored), or a directory we may not write in: DownloadError, no debris."""
    with hostile("video") as (base_url, _):
        url = f"{base_url}/files/video.mp4"
        report = _child(case, flavour, base_url, url, tmp_path)
    assert (report["type"], report["download_error"], report["url"]) == ("DownloadError", True, url), report
    assert report["message"].startswith("could not save "), report["message"]
    assert "v.mp4" in report["message"]
    assert report["leaks"] == []
    assert report["left"] == []
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_name_too_long_is_a_download_error(flavour: str, tmp_path: Path) -> None:
    """A file name longer than the file system allows is a DownloadError before anything is fetched."""
    with hostile("video") as (base_url, recorder):
        url = f"{base_url}/files/video.mp4"
        error = check_failure(fetch(flavour, base_url, url, tmp_path / ("n" * 300 + ".mp4")), qv.DownloadError,
                              url, tmp_path)  # fmt: skip
        assert recorder.requests == []
    assert "could not save" in str(error)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_longest_allowed_name_downloads(flavour: str, tmp_path: Path) -> None:
    """A 255-character name is allowed, so the temporary file beside it must fit too."""
    name = "n" * 251 + ".mp4"
    with hostile("video") as (base_url, _):
        outcome = fetch(flavour, base_url, f"{base_url}/files/video.mp4", tmp_path / name)
    assert outcome.error is None, repr(outcome.error)
    assert (tmp_path / name).read_bytes() == VIDEO
    assert os.listdir(tmp_path) == [name]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_redirect_body_is_never_read(flavour: str, tmp_path: Path) -> None:
    """A redirect carrying 256 MiB of body is followed without reading it: peak memory grows by under 64 MiB."""
    with hostile("video") as (elsewhere, _), hostile("heavy_redirect:256", other=elsewhere) as (base_url, _):
        report = _child("memory", flavour, base_url, f"{base_url}/files/video.mp4", tmp_path)
    assert report["type"] == "NoneType", report["message"]
    assert report["size"] == len(VIDEO)
    assert report["peak_growth"] < 64 * 2**20
