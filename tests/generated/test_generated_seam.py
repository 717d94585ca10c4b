"""The seam to generated code: one facade module uses it, and what it relies on is pinned here.

A regeneration that renames a model, a field or a method the facade uses fails in this file,
with the name that changed, instead of somewhere inside a call.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import attrs
import pytest
from qubrid_video import _generated
from qubrid_video._video import GENERATIONS
from qubrid_video_api_client.api.videos import create_video
from qubrid_video_api_client.models import (
    ErrorResponse,
    ErrorResponseError,
    VideoGenerationMultipartRequest,
    VideoGenerationRequest,
    VideoGenerationResponse,
    VideoGenerationResponseDataItem,
)
from qubrid_video_api_client.types import File

FACADE = Path(_generated.__file__).parent
FIELDS = ["model", "prompt", "duration", "resolution", "fps", "aspect_ratio", "image", "audio", "draft", "save_audio",
          "prompt_upsampling"]  # fmt: skip


def _init_fields(cls: type) -> list[str]:
    return [field.name for field in attrs.fields(cls) if field.init]


def test_only_the_seam_imports_the_generated_package() -> None:
    """No facade module but _generated imports qubrid_video_api_client (_contract only reads its spec file)."""
    importers = set()
    for path in FACADE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(name.split(".")[0] == "qubrid_video_api_client" for name in names):
                importers.add(path.name)
    assert importers == {"_generated.py"}
    mentions = {path.name for path in FACADE.glob("*.py") if "qubrid_video_api_client" in path.read_text()}
    assert mentions == {"_generated.py", "contract.py"}


def test_request_models_take_every_field() -> None:
    """Both request models are attrs classes taking the facade's fields (and the files, for multipart)."""
    assert set(_init_fields(VideoGenerationRequest)) == set(FIELDS)
    assert set(_init_fields(VideoGenerationMultipartRequest)) == {*FIELDS, "image_file", "audio_file"}
    assert callable(VideoGenerationRequest.to_dict)
    assert callable(VideoGenerationMultipartRequest.to_multipart)
    assert list(inspect.signature(File).parameters) == ["payload", "file_name", "mime_type"]


def test_answer_models_hold_what_the_facade_reads() -> None:
    """A 200's `created` and `data[].url`, and an error's five fields, under the names the facade uses."""
    assert {"created", "data"} <= set(_init_fields(VideoGenerationResponse))
    assert "url" in _init_fields(VideoGenerationResponseDataItem)
    assert "error" in _init_fields(ErrorResponse)
    assert {"message", "type_", "code", "param", "request_id"} <= set(_init_fields(ErrorResponseError))
    assert callable(VideoGenerationResponse.from_dict)
    assert callable(ErrorResponse.from_dict)


def test_the_generated_operation_is_the_endpoint_the_facade_calls() -> None:
    """The generated client's create_video posts where Videos does."""
    kwargs = create_video._get_kwargs(body=VideoGenerationRequest(model="p-video"))
    assert (kwargs["method"].upper(), kwargs["url"]) == (GENERATIONS.method, GENERATIONS.path)


def test_seam_builds_bodies_and_reads_answers() -> None:
    """The seam's four functions, end to end on small values."""
    body = _generated.json_body({"model": "p-video", "duration": 5})
    assert body["model"] == "p-video"
    assert body["duration"] == 5
    parts = dict(
        _generated.multipart_body({"model": "p-video", "fps": "24"}, {"image_file": ("a.png", b"x", "image/png")})
    )
    assert parts["model"] == (None, b"p-video", "text/plain")
    assert parts["image_file"] == ("a.png", b"x", "image/png")
    assert _generated.video_answer({"created": 7, "data": [{"url": "https://cdn/v.mp4"}]}) == (["https://cdn/v.mp4"], 7)
    error = {"message": "m", "type": "t", "code": "c", "param": None, "request_id": "r"}
    assert _generated.error_answer({"error": error}) == error
    with pytest.raises((KeyError, TypeError, ValueError)):
        _generated.error_answer({"error": {"message": "no type"}})
