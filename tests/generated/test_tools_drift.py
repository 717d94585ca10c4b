"""The compatibility run behind `make drift NEW=...` (tools/drift.py): spec differences, then the facade's tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from qubrid_video import contract

from ..conftest import ROOT


def _drift(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> subprocess.CompletedProcess[str]:
    """Run tools/drift.py on the bundled spec as changed by `mutate`."""
    spec = contract.spec()
    mutate(spec)
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(spec, sort_keys=False))
    return subprocess.run([sys.executable, str(ROOT / "tools" / "drift.py"), str(new)],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip


def _add_seed(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["VideoGenerationRequest"]["properties"]["seed"] = {"type": "integer"}


def _reword(spec: dict[str, Any]) -> None:
    spec["paths"][contract.OPERATION.path][contract.OPERATION.method]["description"] = "Now with better words."


def test_regenerate_reports_the_features_that_break(tmp_path: Path) -> None:
    """A new request field: the wire is compatible, but the facade's tests fail until it is exposed."""
    result = _drift(tmp_path, _add_seed)
    assert result.returncode == 1, result.stderr
    assert "0 breaking" in result.stdout
    assert "generate(): request fields" in result.stdout
    assert "test_every_spec_field_is_a_parameter" in result.stdout


def test_regenerate_passes_for_a_compatible_spec(tmp_path: Path) -> None:
    """A description-only change regenerates cleanly and the facade's tests all pass."""
    result = _drift(tmp_path, _reword)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the facade's tests pass" in result.stdout
