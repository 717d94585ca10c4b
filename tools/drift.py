"""What a new vendor spec does to this SDK: the compatibility run behind `make drift NEW=...`.

    python tools/drift.py NEW            # NEW: a path or an http(s) URL
    python tools/drift.py NEW --old OLD  # compare against OLD instead of openapi/qubrid-video.yaml

First the installed `qubrid-video drift OLD NEW` lists the differences between the specs. Then the
client is regenerated from NEW into a temporary folder (tools/codegen.py: our config and
templates) and the facade's test suites run against it; each failing test is mapped to the
feature its suite covers. The tests read the contract from the generated package
(`qubrid_video.contract`), so they see NEW's. Exit status 1 when anything is breaking or a
facade test fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "qubrid-video.yaml"
# The facade's test files, and the feature each one covers.
FEATURE_SUITES = {
    "tests/facade/test_generate.py": "generate(): request fields, media uploads, error mapping",
    "tests/facade/test_retry.py": "retries and idempotency",
    "tests/facade/test_download.py": "video downloads",
    "tests/facade/test_client.py": "client construction and the public surface",
}


def _local(source: str, folder: Path) -> Path:
    """`source` as a file: downloaded into `folder` when it is a URL."""
    if not source.startswith(("http://", "https://")):
        return Path(source).resolve()
    response = httpx.get(source, timeout=30, follow_redirects=True)
    response.raise_for_status()
    path = folder / "new-spec.yaml"  # JSON is YAML too
    path.write_bytes(response.content)
    return path


def compatibility_run(new_spec: Path) -> list[tuple[str, str]]:
    """Regenerate the client from `new_spec` into a temporary folder and run the facade's tests on it.

    Returns:
        (test id, feature) for every failing test.
    """
    with tempfile.TemporaryDirectory(prefix="qubrid-drift-") as tmp:
        package = Path(tmp) / "qubrid_video_api_client"
        generated = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "codegen.py"), "generate", "--spec", str(new_spec),
             "--out", str(package)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if generated.returncode != 0:
            return [("regeneration", f"the generator failed: {(generated.stderr or generated.stdout)[-500:]}")]
        report = Path(tmp) / "report.xml"
        # The regenerated package, and the spec it bundles, come first on the path.
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *FEATURE_SUITES],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": tmp}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if not report.exists():
            return [("tests", "the facade's tests did not run")]
        failures = []
        for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 - pytest's own report, just written
            if case.find("failure") is not None or case.find("error") is not None:
                test_file = case.get("classname", "").replace(".", "/") + ".py"
                failures.append((f"{test_file}::{case.get('name')}", FEATURE_SUITES.get(test_file, test_file)))
        return failures


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("new", help="the new spec: a path or an http(s) URL")
    parser.add_argument("--old", default=str(SPEC), help="the spec to compare against (default: %(default)s)")
    args = parser.parse_args(argv)
    compared = subprocess.run(
        [str(Path(sys.executable).parent / "qubrid-video"), "drift", args.old, args.new], check=False
    )
    if compared.returncode not in (0, 1):
        return compared.returncode
    with tempfile.TemporaryDirectory() as tmp:
        failures = compatibility_run(_local(args.new, Path(tmp)))
    if not failures:
        print("regenerated client: the facade's tests pass")
        return compared.returncode
    print(f"regenerated client: {len(failures)} facade tests fail; features that break:")
    for feature in sorted({feature for _, feature in failures}):
        print(f"  - {feature}")
    for test, _ in failures[:15]:
        print(f"    {test}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
