"""qubrid_video.contract: the one reader of the bundled spec, its $ref resolver and openapi-core adapters."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import httpx
import pytest
import qubrid_video
import yaml
from openapi_core.validation.request.exceptions import RequestValidationError
from openapi_core.validation.response.exceptions import ResponseValidationError
from qubrid_video import contract

from ..conftest import ROOT

OPTIONAL = ("yaml", "openapi_core", "jsonschema", "openapi_schema_validator")


def _fresh(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.strip()


def test_import_loads_no_optional_dependency() -> None:
    """`import qubrid_video` (and its contract module) imports neither YAML, openapi-core nor jsonschema."""
    code = (
        f"import sys, qubrid_video, qubrid_video.contract; print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))"
    )
    assert _fresh(code) == "[]"


def test_without_the_extra_only_the_functions_that_need_it_say_so() -> None:
    """Without the `contract` extra the module imports; spec() and openapi() raise ImportError naming the extra,
    and the drift check keeps raising InvalidParameterError for validate_responses."""
    blocked = "".join(f"sys.modules[{name!r}] = None\n" for name in OPTIONAL)
    code = (
        f"import sys\n{blocked}import httpx\nfrom qubrid_video import contract, InvalidParameterError\n"
        "print(contract.OPERATION.path)\n"
        "for call in (contract.spec, contract.openapi):\n"
        "    try:\n        call()\n    except ImportError as exc:\n        print(exc)\n"
        "try:\n    contract.contract_drift(httpx.Response(200, json={}))\n"
        "except InvalidParameterError as exc:\n    print(exc)\n"
    )
    lines = _fresh(code).splitlines()
    assert lines[0] == "/videos/generations"
    assert lines[1] == "needs yaml: pip install 'qubrid-video[contract]'"
    assert lines[2].endswith(": pip install 'qubrid-video[contract]'")
    assert lines[3].startswith("validate_responses: needs ")


def test_the_contract_module_is_public_and_documented() -> None:
    """`qubrid_video.contract` is exported; each name in its __all__ exists and is documented; re-exports hold."""
    assert "contract" in qubrid_video.__all__
    for name in contract.__all__:
        member = getattr(contract, name)
        assert member.__doc__, name
    assert qubrid_video.contract_drift is contract.contract_drift
    assert qubrid_video.ContractDriftWarning is contract.ContractDriftWarning


def test_spec_is_the_bundled_document_and_a_copy() -> None:
    """spec() parses spec_bytes(); changing what it returns changes nothing for the next caller."""
    document = contract.spec()
    assert document == yaml.safe_load(contract.spec_bytes())
    document["paths"].clear()
    assert contract.OPERATION.path in contract.spec()["paths"]


def test_server_and_operation() -> None:
    """The spec's server, split into origin and prefix, is the SDK's default base URL."""
    assert contract.server_url() == qubrid_video.DEFAULT_BASE_URL
    assert contract.server_origin() + contract.api_prefix() == contract.server_url()
    assert contract.api_prefix() == "/v1"
    assert contract.OPERATION == ("post", "/videos/generations")
    assert contract.documented_statuses()[0] == 200
    assert 403 in contract.documented_statuses()


def test_error_example_reads_the_spec_quirks_included() -> None:
    """Every field of the error object has its example; the 403's code is the published `insufficient_quota`."""
    example = contract.error_example(403)
    assert set(example) == {"message", "type", "code", "param", "request_id"}
    assert example["code"] == "insufficient_quota"
    example["code"] = "changed"
    assert contract.error_example(403)["code"] == "insufficient_quota"
    for status in (200, 299):
        with pytest.raises(KeyError):
            contract.error_example(status)


DOC: dict[str, Any] = {
    "components": {
        "schemas": {
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"type": "object", "properties": {"c": {"$ref": "#/components/schemas/a~1b"}}},
            "a/b": {"type": "string"},
            "Loop": {"$ref": "#/components/schemas/Loop"},
        }
    },
    "list": [{"type": "integer"}],
}


@pytest.mark.parametrize(
    ("node", "target", "where"),
    [
        ({"$ref": "#/components/schemas/A"}, DOC["components"]["schemas"]["B"], ("components", "schemas", "B")),
        ({"$ref": "#/components/schemas/a~1b"}, {"type": "string"}, ("components", "schemas", "a/b")),
        ({"$ref": "#/list/0"}, {"type": "integer"}, ("list", "0")),
        ({"type": "boolean"}, {"type": "boolean"}, ()),
        (None, None, ()),
    ],
    ids=["chain", "escaped", "list-index", "no-ref", "not-a-schema"],
)
def test_resolve_follows_local_refs(node: Any, target: Any, where: tuple[str, ...]) -> None:
    """References are followed through chains, `~1` escapes and list indexes, in any document."""
    assert contract.resolve(node, DOC) == (target, where)


@pytest.mark.parametrize(
    "ref", ["#/components/schemas/Missing", "#/list/3", "other.yaml#/x", "#/components/schemas/Loop"]
)
def test_resolve_refuses_what_it_cannot_follow(ref: str) -> None:
    """A dangling, non-local or looping reference is a LookupError, never a silent wrong answer."""
    with pytest.raises(LookupError):
        contract.resolve({"$ref": ref}, DOC)


def test_inline_leaves_no_reference() -> None:
    """The bundled spec's response schemas, inlined, hold no $ref (what the compiled validators need)."""
    responses = contract.spec()["paths"][contract.OPERATION.path][contract.OPERATION.method]["responses"]
    for answer in responses.values():
        assert "$ref" not in repr(contract.inline(answer))
    assert contract.inline({"$ref": "#/components/schemas/A"}, DOC) == {
        "type": "object",
        "properties": {"c": {"type": "string"}},
    }


def test_request_adapter_presents_any_base_url_under_the_spec_server() -> None:
    """An httpx request to a loopback base URL is presented under https://platform.qubrid.com/v1."""
    request = httpx.Request(
        "POST",
        "http://127.0.0.1:9/v1/videos/generations?x=1",
        json={"model": "p-video"},
        headers={"Authorization": "Bearer k"},
    )
    adapted = contract.OpenAPIRequest.of(request)
    assert (adapted.host_url, adapted.path, adapted.method) == (
        "https://platform.qubrid.com", "/v1/videos/generations", "post"
    )  # fmt: skip
    assert json.loads(adapted.body) == {"model": "p-video"}
    assert adapted.parameters.query == {"x": "1"}
    contract.validate_request(request)
    with pytest.raises(RequestValidationError):
        contract.validate_request(contract.OpenAPIRequest(headers=request.headers, body=b'{"prompt": "no model"}'))


def test_response_validation_names_what_departs() -> None:
    """validate_response accepts a documented answer and raises for an off-contract one."""
    ok = {"created": 1, "data": [{"url": "https://cdn.example/v.mp4"}]}
    contract.validate_response(httpx.Response(200, json=ok))
    with pytest.raises(ResponseValidationError):
        contract.validate_response(httpx.Response(200, json={"created": "yesterday", "data": []}))


def test_only_the_contract_module_reads_the_spec() -> None:
    """Neither the emulator nor the CLI reads the bundled spec or imports the generated package, and the
    facade's only $ref handling is the contract module's."""
    reads_spec = re.compile(r"qubrid_video_api_client|openapi\.yaml|importlib import resources|importlib\.resources")
    for package in ("emulator", "cli"):
        for path in (ROOT / package).rglob("*.py"):
            assert not reads_spec.search(path.read_text()), path
    for package in ("facade", "emulator", "cli"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name != "contract.py":
                assert '"$ref"' not in path.read_text(), path
