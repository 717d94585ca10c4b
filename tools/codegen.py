"""Regenerate the low-level client from openapi/, or prove generated/ still matches it.

    python tools/codegen.py generate   # rewrite generated/qubrid_video_api_client/
    python tools/codegen.py check      # regenerate into a temporary folder and compare
    python tools/codegen.py generate --spec NEW.yaml --out DIR   # another spec, elsewhere (drift runs)

The inputs are the spec, the generator's config and the custom templates in openapi/, plus the
pinned generator and ruff from the `dev` extra. Output is byte-reproducible, so `check` can fail
on any difference: a hand edit in generated/, or inputs changed without regenerating.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi"
SPEC = OPENAPI / "qubrid-video.yaml"
CONFIG = OPENAPI / "config.yaml"
TEMPLATES = OPENAPI / "templates"
PACKAGE = "qubrid_video_api_client"
GENERATED = ROOT / "generated" / PACKAGE
PROVENANCE = "provenance.json"
# The spec rides along inside the package, so an installed wheel knows its own contract.
BUNDLED_SPEC = "openapi.yaml"
IGNORED = {"__pycache__", ".ruff_cache", ".mypy_cache"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _inputs_digest() -> str:
    """One digest over the config and every template, by relative path and content."""
    digest = hashlib.sha256()
    files = [CONFIG, *sorted(p for p in TEMPLATES.rglob("*") if p.is_file())]
    for path in files:
        digest.update(path.relative_to(OPENAPI).as_posix().encode() + b"\0")
        digest.update(_sha256(path.read_bytes()).encode() + b"\n")
    return digest.hexdigest()


def provenance(spec: Path = SPEC) -> dict[str, str]:
    """What the generated package was made from; written beside its code."""
    return {
        "spec": spec.relative_to(ROOT).as_posix() if spec.is_relative_to(ROOT) else str(spec),
        "spec_sha256": _sha256(spec.read_bytes()),
        "generator": f"openapi-python-client=={metadata.version('openapi-python-client')}",
        "formatter": f"ruff=={metadata.version('ruff')}",
        "config_and_templates_sha256": _inputs_digest(),
    }


def _run_generator(out: Path, spec: Path = SPEC) -> None:
    bin_dir = Path(sys.executable).parent
    # The config's post-hooks call `ruff` by name: make it the pinned one from this environment.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [
        str(bin_dir / "openapi-python-client"),
        "generate",
        "--path", str(spec),
        "--config", str(CONFIG),
        "--custom-template-path", str(TEMPLATES),
        "--meta", "none",
        "--output-path", str(out),
        "--fail-on-warning",
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not out.is_dir():
        sys.exit(f"openapi-python-client failed:\n{result.stdout}{result.stderr}")
    for cache in [p for p in out.rglob("*") if p.name in IGNORED]:
        shutil.rmtree(cache, ignore_errors=True)
    shutil.copyfile(spec, out / BUNDLED_SPEC)
    (out / PROVENANCE).write_text(json.dumps(provenance(spec), indent=2) + "\n")


def _tree(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not IGNORED.intersection(p.relative_to(root).parts)
    }


def differences(expected: Path, actual: Path) -> list[str]:
    """Describe every file that differs between two trees, with a short diff for edits."""
    want, have = _tree(expected), _tree(actual)
    report = []
    for name in sorted(want.keys() | have.keys()):
        label = f"generated/{PACKAGE}/{name}"
        if name not in have:
            report.append(f"missing: {label}")
        elif name not in want:
            report.append(f"not produced by the generator: {label}")
        elif want[name] != have[name]:
            diff = difflib.unified_diff(
                want[name].decode(errors="replace").splitlines(),
                have[name].decode(errors="replace").splitlines(),
                "regenerated",
                "committed",
                lineterm="",
                n=1,
            )
            report.append(f"differs: {label}\n" + "\n".join(list(diff)[:20]))
    return report


def generate() -> int:
    """Regenerate generated/ in place (through a temporary folder, so a failure leaves it intact)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / PACKAGE
        _run_generator(out)
        shutil.rmtree(GENERATED, ignore_errors=True)
        shutil.copytree(out, GENERATED)
    print(f"generated {GENERATED.relative_to(ROOT)} from {SPEC.relative_to(ROOT)}")
    return 0


def check() -> int:
    """Exit 1, naming the files, when generated/ is not what the inputs produce."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / PACKAGE
        _run_generator(out)
        report = differences(out, GENERATED)
    if report:
        print("generated/ does not match openapi/ (spec, config, templates) and the pinned generator:")
        print("\n".join(report))
        print("Never edit generated/ by hand: change openapi/ and run `make generate`.")
        return 1
    print("generated/ matches what openapi/ produces")
    return 0


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["generate", "check"])
    parser.add_argument("--spec", type=Path, help="generate from this spec instead of openapi/'s")
    parser.add_argument("--out", type=Path, help="write the package here instead of generated/")
    args = parser.parse_args()
    if args.action == "check":
        return check()
    if args.spec or args.out:
        _run_generator(args.out or GENERATED, args.spec.resolve() if args.spec else SPEC)
        return 0
    return generate()


if __name__ == "__main__":
    sys.exit(main())
