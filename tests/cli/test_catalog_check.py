"""`contract-check` and the model catalog: what a live API refuses, compared with what the catalog says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from qubrid_video_cli._catalogcheck import listed
from qubrid_video_cli._commands import cli
from qubrid_video_emulator import Catalog, Emulator, EmulatorConfig
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..conftest import serve_app

# p-video as a live API might turn out to be: more resolutions, frame rates and seconds than published.
LOOSE = {
    "models": {
        "p-video": {
            "extends": "p-video",
            "resolution": {"values": {"480p": 480, "720p": 720, "1080p": 1080}},
            "fps": {"values": [24, 30, 48]},
            "duration": {"max": 20},
            "price": {"per_second": {"480p": 0.01, "720p": 0.02, "1080p": 0.04},
                      "draft_per_second": {"480p": 0.003, "720p": 0.005, "1080p": 0.01}},
        }
    }
}  # fmt: skip


def _check(base_url: str, key: str | None, *args: str) -> Any:
    env = {"QUBRID_API_KEY": key or "", "QUBRID_BASE_URL": base_url}
    return CliRunner().invoke(cli, ["contract-check", *args], env=env)


def _rows(output: str) -> dict[str, str]:
    """The catalog table's rows: probe name (model and field) to verdict."""
    rows = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) > 4 and words[0] == "p-video":
            rows[words[1]] = " ".join(words[4:])
    return rows


def test_a_live_api_looser_than_the_catalog_is_noted() -> None:
    """Against an API allowing 480p, 30 fps and 20 s, each difference is a note; the exit status stays 0, nothing is billed."""
    with Emulator(EmulatorConfig(models=LOOSE)) as emulator:
        result = _check(emulator.base_url, emulator.api_key)
        assert emulator.generations == 0
    assert result.exit_code == 0, result.output
    assert "the model catalog (built-in) against the answers" in result.output
    rows = _rows(result.output)
    assert rows["resolution"] == "note: the live API lists 480p, 720p, 1080p; the catalog allows 720p, 1080p"
    assert rows["fps"] == "note: the live API lists 24, 30, 48; the catalog allows 24, 48"
    assert rows["duration"] == "note: the live API lists 1, 20; the catalog allows 1, 10"
    assert rows["aspect_ratio"].startswith("ok: ")


def test_a_models_file_that_matches_gives_no_note(tmp_path: Path) -> None:
    """--models-file compares with one's own catalog: the same one the API runs, so every row is ok."""
    path = tmp_path / "loose.yaml"
    path.write_text(yaml.safe_dump(LOOSE), encoding="utf-8")
    with Emulator(EmulatorConfig(models=path)) as emulator:
        result = _check(emulator.base_url, emulator.api_key, "--models-file", str(path))
    assert result.exit_code == 0, result.output
    assert f"the model catalog ({path})" in result.output
    assert all(verdict.endswith("as the catalog says") for verdict in _rows(result.output).values())
    assert "note:" not in result.output


def test_a_cheap_generation_refused_is_noted() -> None:
    """With --allow-billable, a 400 for the cheap generation (values the catalog allows) is noted, naming the field."""
    strict = {"models": {"p-video": {"extends": "p-video", "duration": {"min": 2, "max": 10}}}}
    with Emulator(EmulatorConfig(models=strict)) as emulator:
        result = _check(emulator.base_url, emulator.api_key, "--allow-billable")
    assert result.exit_code == 1  # the contract table expected a 200
    assert "the cheap generation (values the catalog allows) got a 400 naming 'duration'" in result.output


def _permissive(request: Request) -> JSONResponse:
    return JSONResponse({"created": 1, "data": [{"url": "https://cdn.example/v.mp4"}]})


def _names_the_model(request: Request) -> JSONResponse:
    error = {"message": "Invalid request.", "type": "invalid_request_error", "code": "invalid_request",
             "param": "model", "request_id": "req-1"}  # fmt: skip
    return JSONResponse({"error": error}, status_code=400)


@pytest.mark.parametrize(
    ("handler", "verdict"),
    [
        (_permissive, "note: resolution='contract-check' answered HTTP 200; the catalog refuses it (expected 400)"),
        (_names_the_model, "note: the 400 names 'model', not 'resolution': nothing to compare"),
    ],
    ids=["accepts-anything", "names-another-field"],
)
def test_answers_that_tell_nothing_are_noted(handler: Any, verdict: str) -> None:
    """A 200 for a value the catalog refuses, or a 400 naming another field, is a note of its own."""
    app = Starlette(routes=[Route("/v1/videos/generations", handler, methods=["POST"])])
    with serve_app(app) as origin:
        result = _check(f"{origin}/v1", "sk-any")
    assert _rows(result.output)["resolution"] == verdict


def test_a_bad_models_file_is_a_usage_error(tmp_path: Path) -> None:
    """An invalid catalog is refused before anything is sent, naming the option and the field."""
    path = tmp_path / "bad.yaml"
    path.write_text("models: {p-video: {extends: p-video, fps: {default: 30}}}", encoding="utf-8")
    result = _check("http://127.0.0.1:9/v1", "sk-any", "--models-file", str(path))
    assert result.exit_code == 2
    assert "--models-file" in result.output
    assert "fps.default: 30" in result.output


@pytest.mark.parametrize(
    ("field", "message", "found"),
    [
        ("resolution", "Invalid 'resolution': allowed values are 720p and 1080p.", {"720p", "1080p"}),
        ("aspect_ratio", "aspect_ratio must be one of '16:9', '9:16' (got 'contract-check')", {"16:9", "9:16"}),
        ("fps", "fps: Input should be 24 or 48 [input_value=-1]", {"24", "48"}),
        ("duration", "Invalid value for 'duration': must be between 1 and 10 for p-video, got -1.", {"1", "10"}),
        ("fps", "Invalid value for 'fps'.", set()),
    ],
)
def test_allowed_values_are_read_from_various_messages(field: str, message: str, found: set[str]) -> None:
    """Values are read from messages worded in other ways too; the value sent (-1) and the model's name are not values."""
    assert listed(field, message, Catalog.default()["p-video"]) == found
