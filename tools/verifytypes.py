"""`make lint`'s type-completeness gate: `basedpyright --verifytypes`, with a minimum score.

    python tools/verifytypes.py qubrid_video --minimum 98

verifytypes has no threshold of its own (its exit status fails on any incomplete symbol), so this
reads its JSON report and fails only below the minimum, listing the symbols to fix. Types coming
from other packages are not counted (``--ignoreexternal``): the score is about what the package
itself declares. The package is found as the environment's Python imports it (the editable install,
or PYTHONPATH), so a report names the directory it checked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def report(package: str) -> dict[str, Any]:
    """The verifytypes report on `package`, parsed."""
    bin_dir = Path(sys.executable).parent
    # pyright asks the first `python` on PATH for its import paths: make it this environment's.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    checker = bin_dir / "basedpyright"
    if not checker.exists():
        sys.exit(f"{checker} is missing: install the dev dependencies (make install)")
    command = [str(checker), "--verifytypes", package, "--ignoreexternal", "--outputjson"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    try:
        parsed: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        sys.exit(f"basedpyright gave no report (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    return parsed


def problems(completeness: dict[str, Any]) -> list[str]:
    """One line per exported or referenced symbol whose type is not fully known."""
    lines = []
    for symbol in completeness.get("symbols", []):
        for diagnostic in symbol.get("diagnostics", []):
            if diagnostic.get("severity") == "error":
                message = "; ".join(line.strip() for line in diagnostic["message"].splitlines())
                lines.append(f"  {symbol['name']}: {message}")
    return lines


def main() -> int:
    """Command-line entry point: exit 1 when the score is below the minimum."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("package")
    parser.add_argument("--minimum", type=float, default=98.0, help="lowest acceptable score, in percent")
    args = parser.parse_args()
    completeness = report(args.package)["typeCompleteness"]
    counts = completeness["exportedSymbolCounts"]
    known, total = counts["withKnownType"], sum(counts.values())
    score = 100 * completeness["completenessScore"]
    where = completeness.get("packageRootDirectory") or "not found"
    summary = f"{args.package} ({where}): type completeness {score:.1f}%, {known} of {total} exported symbols known"
    if not completeness.get("pyTypedPath"):
        print(f"{summary}; no py.typed marker, so type checkers ignore its annotations")
        return 1
    if score < args.minimum:
        print(f"{summary}; below the minimum of {args.minimum:g}%. Give these symbols complete types:")
        print("\n".join(problems(completeness)))
        return 1
    print(f"{summary} (minimum {args.minimum:g}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
