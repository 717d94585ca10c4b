"""The API reference documents every public name: a name added to an ``__all__`` needs its page."""

from __future__ import annotations

import importlib
import re

import qubrid_video
import qubrid_video_emulator

from tests.conftest import ROOT

REFERENCE = ROOT / "docs" / "reference"
# mkdocstrings renders the object named after `:::` at the start of a line.
DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.MULTILINE)


def documented() -> dict[str, str]:
    """Each identifier the reference pages render, and the page that renders it."""
    return {
        name: page.name
        for page in sorted(REFERENCE.glob("*.md"))
        for name in DIRECTIVE.findall(page.read_text(encoding="utf-8"))
    }


def test_every_public_name_has_a_reference_entry() -> None:
    """Every name in ``qubrid_video.__all__`` and ``qubrid_video_emulator.__all__`` is rendered on a page."""
    pages = documented()
    public = [f"qubrid_video.{name}" for name in qubrid_video.__all__]
    public += [f"qubrid_video_emulator.{name}" for name in qubrid_video_emulator.__all__]
    missing = [name for name in public if name not in pages]
    assert not missing, f"add these to a page of docs/reference/: {missing}"


def test_every_exception_is_on_the_exceptions_page() -> None:
    """Each public exception (and warning) class is on ``exceptions.md``, where readers look for it."""
    pages = documented()
    for name in qubrid_video.__all__:
        value = getattr(qubrid_video, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert pages.get(f"qubrid_video.{name}") == "exceptions.md", name


def test_every_entry_names_a_real_object() -> None:
    """No page renders a name that no longer exists (a renamed class would leave a stale entry)."""
    for name in documented():
        module, _, attribute = name.rpartition(".")
        target: object
        try:
            target = importlib.import_module(name)
        except ImportError:
            target = getattr(importlib.import_module(module), attribute, None)
        assert target is not None, f"{name} is documented but does not exist"
