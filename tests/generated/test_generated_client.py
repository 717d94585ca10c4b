"""The generated low-level client: it imports, builds requests the spec accepts, and parses every status."""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from qubrid_video import contract
from qubrid_video_api_client import AuthenticatedClient, models
from qubrid_video_api_client.api.videos import create_video
from qubrid_video_api_client.types import File
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ..conftest import ROOT, SPEC_PATH, serve_app


def _build(body: Any) -> httpx.Request:
    """Build (never send) the request the generated client makes for `body`."""
    with AuthenticatedClient(base_url=contract.server_url(), token="sk-test") as client:
        return client.get_httpx_client().build_request(**create_video._get_kwargs(body=body))


def test_shared_spec_is_byte_identical() -> None:
    """openapi/ holds the vendor's spec byte for byte, quirks included."""
    shared = ROOT.parent / "shared" / "spec" / "qubrid-video.openapi.yaml"
    if not shared.exists() and not os.environ.get("CI"):
        pytest.skip("../shared is not beside this checkout (CI always has it)")
    assert SPEC_PATH.read_bytes() == shared.read_bytes()


def test_create_video_body_is_required() -> None:
    """The body parameter has no default (upstream #1451 made it `| Unset = UNSET` and broke the import)."""
    for function in (create_video.sync_detailed, create_video.asyncio_detailed, create_video._get_kwargs):
        parameter = inspect.signature(function).parameters["body"]
        assert parameter.default is inspect.Parameter.empty
        assert "Unset" not in str(parameter.annotation)


def test_json_request_validates_against_spec() -> None:
    """The JSON request built from the spec's "Image + Audio URLs" example passes openapi-core."""
    body = models.VideoGenerationRequest(
        model="p-video",
        prompt="A butterfly flying through a flower garden",
        duration=5,
        resolution="720p",
        fps=24,
        aspect_ratio="16:9",
        image="https://example.com/input-image.jpg",
        audio="https://example.com/audio.mp3",
        draft=False,
        save_audio=True,
        prompt_upsampling=True,
    )
    request = _build(body)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer sk-test"
    contract.validate_request(request)
    assert json.loads(request.read())["save_audio"] is True


def test_multipart_request_validates_against_spec() -> None:
    """A multipart request with both files and every text field passes openapi-core."""
    body = models.VideoGenerationMultipartRequest(
        model="p-video",
        prompt="A butterfly",
        duration="5",
        resolution="720p",
        fps="24",
        aspect_ratio="16:9",
        image_file=File(payload=io.BytesIO(b"\x89PNG fake"), file_name="cat.png", mime_type="image/png"),
        audio_file=File(payload=io.BytesIO(b"ID3 fake"), file_name="a.mp3", mime_type="audio/mpeg"),
        draft="false",
        save_audio="true",
        prompt_upsampling="true",
    )
    request = _build(body)
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    contract.validate_request(request)


def test_multipart_boundary_is_random_per_request() -> None:
    """Each multipart request gets its own boundary, never the fixed `+++` of upstream #947."""
    boundaries = {
        _build(models.VideoGenerationMultipartRequest(model="p-video")).headers["content-type"].split("boundary=")[1]
        for _ in range(3)
    }
    assert len(boundaries) == 3
    assert "+++" not in boundaries


def test_multipart_null_url_is_omitted_not_sent_as_text() -> None:
    """A None image/audio URL is left out of the form; upstream sent the text "None" as the URL."""
    parts = models.VideoGenerationMultipartRequest(model="p-video", image=None, audio=None).to_multipart()
    assert [name for name, _ in parts] == ["model"]


received: dict[str, Any] = {}


async def _echo(request: Request) -> JSONResponse:
    """Parse the multipart body with Starlette's parser (python-multipart) and record each part."""
    received.clear()
    async with request.form() as form:
        for name, value in form.multi_items():
            data = await value.read() if hasattr(value, "read") else value.encode()
            received[name] = (hashlib.sha256(data).hexdigest(), len(data))
    return JSONResponse({"created": 1710000000, "data": [{"url": "http://127.0.0.1/v.mp4"}]})


@pytest.mark.parametrize(
    "payload",
    [
        os.urandom(300_000),
        b"--+++\r\n" * 1000 + b'--+++--\r\n\r\nContent-Disposition: form-data; name="model"\r\n\r\nevil\r\n--+++--',
    ],
    ids=["random-bytes", "contains-fixed-boundary"],
)
def test_multipart_upload_arrives_byte_identical(payload: bytes) -> None:
    """Uploaded bytes reach a real loopback server intact, even when they contain `--+++` and CRLFs."""
    app = Starlette(routes=[Route("/v1/videos/generations", _echo, methods=["POST"])])
    with serve_app(app) as origin, AuthenticatedClient(base_url=f"{origin}/v1", token="sk-test") as client:
        body = models.VideoGenerationMultipartRequest(
            model="p-video", image_file=File(payload=io.BytesIO(payload), file_name="x.bin")
        )
        response = create_video.sync_detailed(client=client, body=body)
    assert response.status_code == 200
    assert isinstance(response.parsed, models.VideoGenerationResponse)
    assert received["image_file"] == (hashlib.sha256(payload).hexdigest(), len(payload))
    assert received["model"] == (hashlib.sha256(b"p-video").hexdigest(), 7)
    assert set(received) == {"model", "image_file"}


def _example(schema: dict[str, Any]) -> Any:
    """A value for `schema` built from the spec's own examples (required properties at least)."""
    schema, _ = contract.resolve(schema)
    if schema.get("type") == "object":
        return {name: _example(sub) for name, sub in schema.get("properties", {}).items()}
    if schema.get("type") == "array":
        return [_example(schema["items"])]
    return schema.get("example", {"string": "x", "integer": 1, "boolean": True}.get(schema.get("type", "")))


def _documented_responses() -> list[tuple[int, str]]:
    responses = contract.spec()["paths"][contract.OPERATION.path][contract.OPERATION.method]["responses"]
    return [
        (int(status), contract.resolve(response["content"]["application/json"]["schema"])[1][-1])
        for status, response in responses.items()
    ]


@pytest.mark.parametrize(("status", "schema_name"), _documented_responses())
def test_every_documented_status_parses_into_its_model(status: int, schema_name: str) -> None:
    """A loopback server answering each documented status yields the model the spec names for it."""
    body = _example({"$ref": f"#/components/schemas/{schema_name}"})

    async def answer(request: Request) -> JSONResponse:
        return JSONResponse(body, status_code=status)

    app = Starlette(routes=[Route("/v1/videos/generations", answer, methods=["POST"])])
    with serve_app(app) as origin, AuthenticatedClient(base_url=f"{origin}/v1", token="sk-test") as client:
        response = create_video.sync_detailed(client=client, body=models.VideoGenerationRequest(model="p-video"))
    assert response.status_code == status
    assert type(response.parsed).__name__ == schema_name
    assert response.parsed is not None
    assert response.parsed.to_dict() == body


def test_provenance_names_the_spec_digest() -> None:
    """generated/ records which spec, generator and formatter made it."""
    provenance = json.loads((ROOT / "generated" / "qubrid_video_api_client" / "provenance.json").read_text())
    assert provenance["spec_sha256"] == hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest()
    assert provenance["generator"] == "openapi-python-client==0.29.1"
    assert Path(ROOT / provenance["spec"]) == SPEC_PATH


def test_generated_package_bundles_its_spec() -> None:
    """The generated package carries the exact spec it was generated from, for installed wheels."""
    assert contract.spec_bytes() == SPEC_PATH.read_bytes()
