"""The distributions as PyPI would get them: licence, typing markers, public metadata, the README as the page."""

from __future__ import annotations

import configparser
import email.message
import email.parser
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from qubrid_video import __version__

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("qubrid_video", "qubrid_video_api_client", "qubrid_video_emulator", "qubrid_video_cli")
DIST_INFO = f"qubrid_video-{__version__}.dist-info"
PROJECT_URLS = ("Homepage", "Documentation", "Changelog", "Issues", "Source")


def _offline_env() -> dict[str, str]:
    """The environment for a build that must not reach the network.

    pip runs with --no-index and --isolated (no index, no find-links from any config), and without
    build isolation (the dev group's hatchling, nothing fetched). Should anything still try HTTP,
    the proxies point at a closed loopback port, so it fails instead of downloading.
    """
    env = dict(os.environ)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[name] = "http://127.0.0.1:9"
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return env


def _run(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=_offline_env(), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    """The wheel built from this checkout, offline (hatchling comes from the dev dependency group)."""
    out = tmp_path_factory.mktemp("wheel")
    _run(
        "-m", "pip", "wheel", "--isolated", "--no-index", "--no-deps", "--no-build-isolation",
        "--quiet", "--wheel-dir", str(out), str(ROOT),
    )  # fmt: skip
    (path,) = out.glob("qubrid_video-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


@pytest.fixture(scope="module")
def metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    """The wheel's METADATA, parsed as the core metadata spec says (an email header block and a body)."""
    return email.parser.Parser().parsestr(wheel.read(f"{DIST_INFO}/METADATA").decode("utf-8"))


def test_license_file_is_in_the_dist_info(wheel: zipfile.ZipFile, metadata: email.message.Message) -> None:
    """The LICENSE ships in the wheel's dist-info, as the License-File field names it."""
    assert wheel.read(f"{DIST_INFO}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["License-Expression"] == "MIT"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_is_marked_typed(wheel: zipfile.ZipFile, package: str) -> None:
    """Each of the four packages ships py.typed, so mypy and pyright read its annotations (PEP 561).

    qubrid_video_api_client's marker comes from the generator (openapi/), not from a hand edit of
    generated/: that case passes once the generator emits it.
    """
    assert f"{package}/py.typed" in wheel.namelist()


def test_the_emulator_ships_its_model_catalog(wheel: zipfile.ZipFile) -> None:
    """The model catalog the emulator reads at run time is in the wheel, byte for byte."""
    path = "qubrid_video_emulator/models.yaml"
    assert wheel.read(path) == (ROOT / "emulator" / path).read_bytes()


def test_top_level_is_exactly_the_four_packages(wheel: zipfile.ZipFile) -> None:
    """Nothing but the four packages and the dist-info lands in site-packages (no tests, tools, docs)."""
    top = {name.split("/", 1)[0] for name in wheel.namelist()}
    assert top == {*PACKAGES, DIST_INFO}


def test_the_pytest_plugin_is_an_entry_point(wheel: zipfile.ZipFile) -> None:
    """pytest finds the emulator's fixtures through the wheel's pytest11 entry point, and the CLI is a script."""
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.read_string(wheel.read(f"{DIST_INFO}/entry_points.txt").decode("utf-8"))
    assert dict(parser["pytest11"]) == {"qubrid_video": "qubrid_video_emulator.pytest_plugin"}
    assert dict(parser["console_scripts"]) == {"qubrid-video": "qubrid_video_cli:main"}


def test_dev_tooling_is_not_public_metadata(metadata: email.message.Message) -> None:
    """The dev tools are a dependency group, not an extra: users see only the three real extras."""
    assert sorted(metadata.get_all("Provides-Extra") or []) == ["cli", "contract", "emulator"]
    requirements = metadata.get_all("Requires-Dist") or []
    assert not [r for r in requirements if re.match(r"(ruff|mypy|pytest|hatchling|twine|build)\b", r)]


def test_project_urls_and_classifiers(metadata: email.message.Message) -> None:
    """Homepage, docs, changelog, issues and source are linked; typed; the licence only as an expression."""
    urls = dict(entry.split(", ", 1) for entry in metadata.get_all("Project-URL") or [])
    assert sorted(urls) == sorted(PROJECT_URLS)
    assert all(url.startswith("https://") for url in urls.values())
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    # PEP 639: a License-Expression and a licence classifier together are refused by PyPI.
    assert not [c for c in classifiers if c.startswith("License ::")]
    assert metadata["Author"]


def test_long_description_is_the_readme(metadata: email.message.Message) -> None:
    """PyPI's page for the package is README.md, rendered as Markdown."""
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload() == (ROOT / "README.md").read_text(encoding="utf-8")


def test_sdist_carries_the_documents(tmp_path: Path) -> None:
    """The sdist holds the licence, the changelog and the contributor guide beside the sources."""
    _run("-m", "build", "--sdist", "--no-isolation", "--quiet", "--outdir", str(tmp_path), str(ROOT))
    (path,) = tmp_path.glob("qubrid_video-*.tar.gz")
    with tarfile.open(path) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"LICENSE", "CHANGELOG.md", "CONTRIBUTING.md", "README.md", "pyproject.toml"} <= names


def test_readme_links_are_absolute() -> None:
    """README.md is also the PyPI page, where a repository-relative link or an anchor leads nowhere."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)", text) + re.findall(r"^\[[^\]]+\]:\s*(\S+)", text, flags=re.MULTILINE)
    assert targets, "the README links to its documentation"
    assert [t for t in targets if not t.startswith("https://")] == []


def test_changelog_starts_at_the_current_version() -> None:
    """CHANGELOG.md (Keep a Changelog) has an Unreleased section and an entry for the version being built."""
    headings = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert headings[:2] == ["Unreleased", __version__]
