"""Every package of the wheel carries the PEP 561 marker, so type checkers read its annotations."""

from __future__ import annotations

from importlib import resources

import pytest


@pytest.mark.parametrize(
    "package", ["qubrid_video", "qubrid_video_api_client", "qubrid_video_emulator", "qubrid_video_cli"]
)
def test_package_is_marked_typed(package: str) -> None:
    """Without py.typed, mypy --strict refuses `from <package> import ...` as import-untyped."""
    assert resources.files(package).joinpath("py.typed").is_file()
