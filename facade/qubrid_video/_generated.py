"""The one door to the generated client, ``qubrid_video_api_client``: request bodies in, answers out.

Everything the facade takes from generated code passes through these four functions, and
``tests/test_generated_seam.py`` pins what they rely on (class names, fields, methods), so a
regeneration that changes any of it fails there, in one place. (``_contract`` reads the spec file
bundled with the package, not its code.) The package is imported on the first call, not with
``import qubrid_video``, which keeps the SDK quick to import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def json_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body of a generation request, written by the generated model.

    It writes the spec's documented defaults for the flags left out, which is what the API
    assumes for them anyway.
    """
    from qubrid_video_api_client.models import VideoGenerationRequest  # noqa: PLC0415 - see the module docstring

    return VideoGenerationRequest(**fields).to_dict()


def multipart_body(fields: Mapping[str, Any], files: Mapping[str, tuple[str, Any, str]]) -> list[tuple[str, Any]]:
    """The parts of a multipart generation request: text `fields`, and `files` as (filename, content, type).

    httpx streams a file object part in chunks (and rewinds it for a retry); bytes go as they are.
    """
    from qubrid_video_api_client.models import VideoGenerationMultipartRequest  # noqa: PLC0415
    from qubrid_video_api_client.types import File  # noqa: PLC0415

    parts: dict[str, Any] = {
        name: File(payload=content, file_name=filename, mime_type=mime)
        for name, (filename, content, mime) in files.items()
    }
    return VideoGenerationMultipartRequest(**fields, **parts).to_multipart()


def video_answer(decoded: Mapping[str, Any]) -> tuple[list[object], object]:
    """The ``url`` of each item of a 200's ``data`` (none when it is not a list), and its ``created``.

    Raises:
        TypeError, ValueError, KeyError, AttributeError: the body does not fit the generated model.
    """
    from qubrid_video_api_client.models import VideoGenerationResponse  # noqa: PLC0415

    parsed = VideoGenerationResponse.from_dict(decoded)
    items = parsed.data if isinstance(parsed.data, list) else []
    return [item.url for item in items], parsed.created


def error_answer(decoded: Mapping[str, Any]) -> dict[str, object]:
    """The documented fields of an ``{"error": {...}}`` body: message, type, code, param, request_id.

    Raises:
        TypeError, ValueError, KeyError: the body does not fit the generated model.
    """
    from qubrid_video_api_client.models import ErrorResponse  # noqa: PLC0415

    error = ErrorResponse.from_dict(decoded).error
    return {"message": error.message, "type": error.type_, "code": error.code, "param": error.param,
            "request_id": error.request_id}  # fmt: skip
