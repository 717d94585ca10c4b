"""Building the journal's entries: what the emulator keeps of each generation request and each download.

The entries themselves are the public, frozen classes of ``_records.py``; they are built here in
one place once a request's answer is known (:func:`generation_record`, :func:`download_record`).
``Emulator.requests()`` and ``downloads()`` return them as they are; ``Emulator.journal()`` and
``GET /_emulator/journal`` show them as plain dicts (``as_dict()``).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import attrs
from starlette.requests import Request

from ._faults import FaultKind
from ._params import Upload
from ._records import DownloadRecord, GenerationRecord, UploadRecord

_FIELD_CHARS = 200


def key_label(key: str) -> str:
    """How the journal names a key without holding it: a short digest."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:10]


def upload_record(upload: Upload) -> UploadRecord:
    """The journal's record of `upload`: its digest, size and declared name and type."""
    digest = hashlib.sha256(upload.data).hexdigest()
    size, filename, content_type = len(upload.data), upload.filename, upload.content_type
    return UploadRecord(sha256=digest, size=size, filename=filename, content_type=content_type)


@attrs.define(kw_only=True)
class GenerationNotes:
    """What a generation request showed on its way through, noted by the generation room for its entry.

    Attributes:
        request_id: The request id it is answered with.
        received: When it arrived (Unix time).
        fields: Its body's fields, once parsed.
        uploads: Its uploaded files by field name, once parsed.
        key: The API key it authenticated with, once it did.
        fault: The fault it drew, if any.
        outcome: What became of it, once known.
        generation_id: The generation it ran or replayed, if any.
    """

    request_id: str
    received: float
    fields: dict[str, Any] = attrs.Factory(dict)
    uploads: dict[str, Upload] = attrs.Factory(dict)
    key: str | None = None
    fault: FaultKind | None = None
    outcome: str | None = None
    generation_id: str | None = None


def generation_record(request: Request, notes: GenerationNotes, status: int | None) -> GenerationRecord:
    """The entry for `request`, answered with `status` after what `notes` says happened."""
    return GenerationRecord(
        request_id=notes.request_id,
        time=notes.received,
        content_type=request.headers.get("content-type"),
        idempotency_key=request.headers.get("idempotency-key"),
        authorization="authorization" in request.headers,
        key=None if notes.key is None else key_label(notes.key),
        fields={k: (v[:_FIELD_CHARS] if isinstance(v, str) else v) for k, v in notes.fields.items()},
        files={name: upload_record(upload) for name, upload in notes.uploads.items()},
        fault=notes.fault,
        status=status,
        outcome=notes.outcome,
        generation_id=notes.generation_id,
        answered=time.time(),
    )


def download_record(
    request: Request, *, request_id: str, received: float, fault: FaultKind | None, status: int
) -> DownloadRecord:
    """The entry for the download `request`, answered with `status`."""
    return DownloadRecord(
        request_id=request_id,
        time=received,
        name=request.path_params["name"],
        authorization="authorization" in request.headers,
        range=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
        fault=fault,
        status=status,
    )
