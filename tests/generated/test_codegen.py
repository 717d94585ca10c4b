"""The regeneration pipeline: template overrides stay minimal, and hand edits of generated/ are caught."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from ..conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import codegen

OVERRIDES = sorted(p for p in (ROOT / "openapi" / "templates").rglob("*.jinja"))
FIX = re.compile(r"^[ \t]*\{# qubrid-fix begin: .*?\{# qubrid-fix end #\}\n", re.S | re.M)


@pytest.mark.parametrize("override", OVERRIDES, ids=lambda p: p.name)
def test_template_override_changes_only_marked_fixes(override: Path) -> None:
    """Outside its `qubrid-fix` blocks, each override is the upstream template of the pinned generator."""
    relative = override.relative_to(ROOT / "openapi" / "templates").as_posix()
    upstream = (resources.files("openapi_python_client") / "templates" / relative).read_text()
    ours = override.read_text()
    fixes = FIX.findall(ours)
    assert fixes, f"{relative} overrides upstream but marks no fix"
    assert all(re.search(r"upstream|spec", fix) for fix in fixes), "each fix says why"
    unmarked = FIX.sub("", ours).splitlines()
    added = [
        line
        for line in difflib.unified_diff(upstream.splitlines(), unmarked, lineterm="", n=0)
        if line.startswith("+") and not line.startswith("+++")
    ]
    assert added == [], f"{relative} changes upstream outside a qubrid-fix block"


def test_hand_edit_of_generated_code_is_named(tmp_path: Path) -> None:
    """Comparing an edited copy of generated/ against the original names exactly the edited file."""
    copy = tmp_path / "pkg"
    shutil.copytree(codegen.GENERATED, copy)
    (copy / "models" / "video_generation_request.py").write_text("# edited by hand\n", encoding="utf-8")
    (copy / "stray.py").write_text("x = 1\n")
    report = codegen.differences(codegen.GENERATED, copy)
    assert len(report) == 2
    assert report[0].startswith("differs: generated/qubrid_video_api_client/models/video_generation_request.py")
    assert report[1] == "not produced by the generator: generated/qubrid_video_api_client/stray.py"
    assert codegen.differences(codegen.GENERATED, codegen.GENERATED) == []


def test_boolean_multipart_fields_are_sent_lowercase(tmp_path: Path) -> None:
    """If the spec ever types a multipart flag as boolean, the override sends "true"/"false", not "True"."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "openapi: 3.0.3\ninfo: {title: Flag API, version: '1'}\npaths:\n  /f:\n    post:\n"
        "      operationId: postF\n      requestBody:\n        required: true\n        content:\n"
        "          multipart/form-data:\n            schema:\n              type: object\n"
        "              properties: {draft: {type: boolean}}\n"
        "      responses: {'204': {description: ok}}\n"
    )
    out = tmp_path / "flag_api_client"
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(spec), "--meta", "none",
         "--custom-template-path", str(ROOT / "openapi" / "templates"), "--config", str(codegen.CONFIG),
         "--output-path", str(out)],
        check=True, capture_output=True, env={"PATH": str(bin_dir)},
    )  # fmt: skip
    sys.path.insert(0, str(tmp_path))
    try:
        from flag_api_client.models.post_f_body import PostFBody  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    parts = dict(PostFBody(draft=True).to_multipart())
    assert parts["draft"] == (None, b"true", "text/plain")
    assert dict(PostFBody(draft=False).to_multipart())["draft"][1] == b"false"
