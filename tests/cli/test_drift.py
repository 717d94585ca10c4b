"""Contract drift: spec-to-spec rules, the facade's coverage, live conformance (the compatibility run: test_tools_drift)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import qubrid_video as qv
import yaml
from click.testing import CliRunner
from qubrid_video import contract
from qubrid_video._errors import STATUS_ERRORS, error_class
from qubrid_video._response import status_error
from qubrid_video_cli._commands import cli
from qubrid_video_cli._specdiff import BREAKING, COMPATIBLE, diff
from qubrid_video_emulator import Emulator, EmulatorConfig
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from ..conftest import SPEC_PATH, serve_app

OP = ["paths", "/videos/generations", "post"]
REQ = ["components", "schemas", "VideoGenerationRequest"]
MULTI = ["components", "schemas", "VideoGenerationMultipartRequest"]
RESP = ["components", "schemas", "VideoGenerationResponse"]
ITEM = [*RESP, "properties", "data", "items"]
ERR = ["components", "schemas", "ErrorResponse", "properties", "error"]


def _at(spec: dict[str, Any], path: list[str]) -> Any:
    for part in path:
        spec = spec[part]
    return spec


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda spec: _at(spec, path[:-1]).__setitem__(path[-1], value)


def _delete(path: list[str]) -> Callable[[dict[str, Any]], None]:
    return lambda spec: _at(spec, path[:-1]).pop(path[-1])


def _append(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda spec: _at(spec, path).append(value)


def _ptr(path: list[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


RULES = [
    # (mutation, rule, severity, pointer)
    (_delete(["paths", "/videos/generations"]), "path-removed", BREAKING, "/paths/~1videos~1generations"),
    (_set(["paths", "/videos/edits"], {"post": {"responses": {}}}), "path-added", COMPATIBLE, "/paths/~1videos~1edits"),
    (_delete(OP), "operation-removed", BREAKING, _ptr(OP)),
    (_set([*OP[:-1], "get"], {"responses": {}}), "operation-added", COMPATIBLE, _ptr([*OP[:-1], "get"])),
    (_set(["servers", 0, "url"], "https://api.qubrid.com/v2"), "server-url-changed", BREAKING, "/servers/0/url"),
    (_set(["components", "securitySchemes", "BearerAuth", "scheme"], "basic"), "security-scheme-changed", BREAKING,
     "/components/securitySchemes/BearerAuth"),
    (_delete([*REQ, "properties", "fps"]), "request-property-removed", BREAKING, _ptr([*REQ, "properties", "fps"])),
    (_set([*REQ, "properties", "seed"], {"type": "integer"}), "request-property-added", COMPATIBLE,
     _ptr([*REQ, "properties", "seed"])),
    (_append([*REQ, "required"], "prompt"), "request-property-became-required", BREAKING, _ptr([*REQ, "required"])),
    (_set([*REQ, "properties", "duration", "type"], "number"), "request-type-changed", BREAKING,
     _ptr([*REQ, "properties", "duration", "type"])),
    (_set([*REQ, "properties", "image", "format"], "uri"), "request-format-changed", BREAKING,
     _ptr([*REQ, "properties", "image", "format"])),
    (_set([*REQ, "properties", "image", "nullable"], False), "request-nullability-changed", BREAKING,
     _ptr([*REQ, "properties", "image", "nullable"])),
    (_set([*REQ, "properties", "resolution", "enum"], ["720p"]), "request-enum-narrowed", BREAKING,
     _ptr([*REQ, "properties", "resolution", "enum"])),
    (_set([*REQ, "properties", "draft", "default"], True), "request-default-changed", BREAKING,
     _ptr([*REQ, "properties", "draft", "default"])),
    (_delete([*OP, "requestBody", "content", "multipart/form-data"]), "request-content-type-removed", BREAKING,
     _ptr([*OP, "requestBody", "content", "multipart/form-data"])),
    (_set([*OP, "requestBody", "content", "application/x-www-form-urlencoded"], {"schema": {"type": "object"}}),
     "request-content-type-added", COMPATIBLE, _ptr([*OP, "requestBody", "content", "application/x-www-form-urlencoded"])),
    (_delete([*OP, "responses", "504"]), "response-status-removed", COMPATIBLE, _ptr([*OP, "responses", "504"])),
    (_set([*OP, "responses", "409"], {"description": "conflict"}), "response-status-added", COMPATIBLE,
     _ptr([*OP, "responses", "409"])),
    (_set([*OP, "responses", "202"], {"description": "queued"}), "response-status-added", BREAKING,
     _ptr([*OP, "responses", "202"])),
    (_delete([*ITEM, "properties", "url"]), "response-property-removed", BREAKING, _ptr([*ITEM, "properties", "url"])),
    (_set([*ITEM, "required"], ["url"]), "response-property-became-required", COMPATIBLE, _ptr([*ITEM, "required"])),
    (_set([*ITEM, "properties", "url", "nullable"], True), "response-nullability-changed", BREAKING,
     _ptr([*ITEM, "properties", "url", "nullable"])),
    (_set([*RESP, "properties", "created", "type"], "string"), "response-type-changed", BREAKING,
     _ptr([*RESP, "properties", "created", "type"])),
    (_set([*RESP, "properties", "created", "format"], "date-time"), "response-format-changed", BREAKING,
     _ptr([*RESP, "properties", "created", "format"])),
    (_set([*RESP, "properties", "state"], {"type": "string", "enum": ["done"]}), "response-property-added", COMPATIBLE,
     _ptr([*RESP, "properties", "state"])),
    (_delete([*ERR, "properties", "param"]), "error-property-removed", BREAKING, _ptr([*ERR, "properties", "param"])),
    (_set([*ERR, "required"], ["message", "type"]), "error-property-became-optional", BREAKING, _ptr([*ERR, "required"])),
    (_set([*OP, "responses", "400", "content"], {"text/html": {}}), "error-content-type-removed", BREAKING,
     _ptr([*OP, "responses", "400", "content", "application/json"])),
]  # fmt: skip


@pytest.fixture(scope="module")
def original() -> dict[str, Any]:
    """The vendor's spec, parsed once."""
    return contract.spec()


@pytest.mark.parametrize(("mutate", "rule", "severity", "where"), RULES, ids=[f"{r[1]}-{r[2]}" for r in RULES])
def test_each_rule(original: dict[str, Any], mutate: Any, rule: str, severity: str, where: str) -> None:
    """One mutation of the real spec is reported by its rule, with its severity and JSON pointer."""
    mutated = copy.deepcopy(original)
    mutate(mutated)
    found = {(c.rule, c.severity, c.pointer) for c in diff(original, mutated)}
    assert (rule, severity, where) in found, found


def test_enum_rules_in_both_directions(original: dict[str, Any]) -> None:
    """Enums: narrowing breaks what the SDK sends; widening breaks what it reads."""
    with_enum = copy.deepcopy(original)
    _at(with_enum, [*REQ, "properties", "resolution"])["enum"] = ["480p", "720p"]
    _at(with_enum, [*RESP, "properties", "created"])["enum"] = [1, 2]
    wider = copy.deepcopy(with_enum)
    _at(wider, [*REQ, "properties", "resolution"])["enum"].append("1080p")
    _at(wider, [*RESP, "properties", "created"])["enum"].append(3)
    rules = {(c.rule, c.severity) for c in diff(with_enum, wider)}
    assert ("request-enum-widened", COMPATIBLE) in rules
    assert ("response-enum-widened", BREAKING) in rules
    rules = {(c.rule, c.severity) for c in diff(wider, with_enum)}
    assert ("request-enum-narrowed", BREAKING) in rules
    assert ("response-enum-narrowed", COMPATIBLE) in rules


def test_identical_specs_have_no_differences(original: dict[str, Any]) -> None:
    """The spec against itself: nothing to report."""
    assert diff(original, copy.deepcopy(original)) == []


def _spec_file(tmp_path: Path, original: dict[str, Any], mutate: Callable[[dict[str, Any]], None]) -> Path:
    mutated = copy.deepcopy(original)
    mutate(mutated)
    path = tmp_path / "new.yaml"
    path.write_text(yaml.safe_dump(mutated, sort_keys=False))
    return path


def test_drift_command_text_json_and_exit_status(original: dict[str, Any], tmp_path: Path) -> None:
    """Breaking drift exits 1 with each change's pointer; --format json parses; a URL works as a source."""
    new = _spec_file(tmp_path, original, _delete([*REQ, "properties", "fps"]))
    text = CliRunner().invoke(cli, ["drift", str(SPEC_PATH), str(new)])
    assert text.exit_code == 1
    assert "BREAKING" in text.output
    assert "/components/schemas/VideoGenerationRequest/properties/fps" in text.output
    as_json = CliRunner().invoke(cli, ["drift", str(SPEC_PATH), str(new), "--format", "json"])
    report = json.loads(as_json.output)
    assert report["breaking"] == 1
    assert report["changes"][0]["rule"] == "request-property-removed"

    served = new.read_bytes()

    async def spec_route(request: Any) -> Response:
        return Response(served, media_type="application/yaml")

    with serve_app(Starlette(routes=[Route("/openapi.yaml", spec_route)])) as origin:
        by_url = CliRunner().invoke(cli, ["drift", str(SPEC_PATH), f"{origin}/openapi.yaml", "--format", "json"])
    assert json.loads(by_url.output) == report
    compatible = _spec_file(tmp_path, original, _set([*RESP, "properties", "model"], {"type": "string"}))
    assert CliRunner().invoke(cli, ["drift", str(SPEC_PATH), str(compatible)]).exit_code == 0


def test_regenerate_says_it_runs_from_a_checkout(original: dict[str, Any], tmp_path: Path) -> None:
    """The installed command compares specs only: --regenerate names `make drift` and exits 2, comparing nothing."""
    new = _spec_file(tmp_path, original, _delete([*REQ, "properties", "fps"]))
    result = CliRunner().invoke(cli, ["drift", str(SPEC_PATH), str(new), "--regenerate"])
    assert result.exit_code == 2
    assert "make drift NEW=" in result.output
    assert "BREAKING" not in result.output


# The facade covers the contract.


def test_every_documented_error_status_has_its_own_class(original: dict[str, Any]) -> None:
    """Each documented error status maps to a dedicated subclass of APIStatusError."""
    statuses = [int(s) for s in _at(original, [*OP, "responses"]) if int(s) >= 400]
    for status in statuses:
        assert STATUS_ERRORS[status] is not qv.APIStatusError
        assert issubclass(STATUS_ERRORS[status], qv.APIStatusError)
    assert len({STATUS_ERRORS[s] for s in statuses}) == len(statuses)


def test_every_error_example_is_understood() -> None:
    """The spec's example error body for each status becomes the right class with every field read."""
    for status in contract.documented_statuses():
        if status < 400:
            continue
        body = {"error": contract.error_example(status)}
        answer = httpx.Response(status, json=body, request=httpx.Request("POST", "https://x/v1/videos/generations"))
        error = status_error(answer, answer.content)
        assert type(error) is error_class(status, body["error"]["code"])
        assert isinstance(error, STATUS_ERRORS[status])
        assert (error.code, error.type, error.message, error.request_id) == (
            body["error"]["code"], body["error"]["type"], body["error"]["message"], body["error"]["request_id"]
        )  # fmt: skip
        assert error.code in str(error)


# Live conformance against the emulator, faithful and drifting.


def _contract_check(emulator: Emulator, *args: str) -> Any:
    env = {"QUBRID_API_KEY": emulator.api_key, "QUBRID_BASE_URL": emulator.base_url}
    return CliRunner().invoke(cli, ["contract-check", *args], env=env)


def test_contract_check_passes_on_a_faithful_api(emulator: Emulator) -> None:
    """Every probe (and the billable one when allowed) conforms; exit 0; nothing was generated otherwise."""
    result = _contract_check(emulator)
    assert result.exit_code == 0, result.output
    assert result.output.count("  ok\n") == 4
    assert result.output.count(", as the catalog says") == 4  # the catalog's probes (tests/cli/test_catalog_check.py)
    assert emulator.generations == 0
    billable = _contract_check(emulator, "--allow-billable")
    assert billable.exit_code == 0, billable.output
    assert emulator.generations == 1
    (generated,) = [entry for entry in emulator.requests() if entry.outcome == "generated"]
    assert generated.fields["draft"] is True


@pytest.mark.parametrize(
    ("drift", "args", "symptom"),
    [
        ({"error_code"}, [], "the spec's example says 'missing_api_key'"),
        ({"drop_request_id"}, [], "'request_id' is a required property"),
        ({"new_status"}, ["--allow-billable"], "status 201 is not documented"),
        ({"created_string"}, ["--allow-billable"], "is not of type 'integer'"),
    ],
)
def test_contract_check_catches_drift(drift: set[str], args: list[str], symptom: str) -> None:
    """An emulator in drift mode answers off-contract; contract-check names the mismatch and exits 1."""
    with Emulator(EmulatorConfig(drift=drift)) as emulator:
        result = _contract_check(emulator, *args)
    assert result.exit_code == 1
    assert symptom in result.output


def test_contract_check_without_a_key_skips_keyed_probes(emulator: Emulator) -> None:
    """Without a key, the probes that need one are shown as skipped; the rest still run."""
    result = CliRunner().invoke(cli, ["contract-check", "--base-url", emulator.base_url], env={"QUBRID_API_KEY": ""})
    assert result.exit_code == 0, result.output
    assert result.output.count("skipped: needs QUBRID_API_KEY") == 2
    assert "catalog checks skipped: they need QUBRID_API_KEY" in result.output


def test_validation_mode_warns_and_keeps_usable_answers() -> None:
    """validate_responses=True: a drifting but usable answer warns and still returns the video."""
    with (
        Emulator(EmulatorConfig(drift={"created_string"})) as emulator,
        qv.Qubrid(api_key=emulator.api_key, base_url=emulator.base_url, validate_responses=True) as client,
        pytest.warns(qv.ContractDriftWarning, match="created"),
    ):
        video = client.videos.generate(model="p-video", duration=1, aspect_ratio="1:1", draft=True)
    assert video.url.endswith(".mp4")
    assert video.created is None


def test_validation_mode_strict_raises() -> None:
    """validate_responses="strict": a drifting answer raises ContractDriftError listing the mismatches."""
    with (
        Emulator(EmulatorConfig(drift={"drop_request_id"})) as emulator,
        qv.Qubrid(api_key=emulator.api_key, base_url=emulator.base_url, validate_responses="strict") as client,
        pytest.raises(qv.ContractDriftError) as caught,
    ):
        client.videos.generate(model="no-such-model")
    assert any("request_id" in m for m in caught.value.mismatches)


def test_validation_mode_is_silent_on_a_faithful_api(emulator: Emulator) -> None:
    """No drift, no warning (pytest turns any warning into an error here)."""
    with qv.Qubrid(api_key=emulator.api_key, base_url=emulator.base_url, validate_responses="strict") as client:
        client.videos.generate(model="p-video", duration=1, aspect_ratio="1:1", draft=True)
        with pytest.raises(qv.ModelNotFoundError):
            client.videos.generate(model="no-such-model")


def test_validation_mode_option_is_checked() -> None:
    """Only False, True and "strict" are accepted."""
    with pytest.raises(qv.InvalidParameterError, match="validate_responses"):
        qv.Qubrid(api_key="k", validate_responses="loud")  # type: ignore[arg-type]
