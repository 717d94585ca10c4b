"""The journal's entries: what the emulator keeps of each generation request and each video download.

Each entry is a frozen attrs class, built in one place once its answer is known
(:meth:`GenerationRecord.of`, :meth:`DownloadRecord.of`). The public journal
(``Emulator.journal()``, ``requests()``, ``downloads()`` and ``GET /_emulator/journal``) shows
entries as plain dicts (:meth:`as_dict`): the attributes below, in order, as it always has.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import attrs
from starlette.requests import Request

from ._faults import FaultKind
from ._params import Upload

_FIELD_CHARS = 200


def key_label(key: str) -> str:
    """How the journal names a key without holding it: a short digest."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:10]


def _plain(instance: Any, field: attrs.Attribute[Any], value: Any) -> Any:
    return value.value if isinstance(value, FaultKind) else value


class _Record:
    def as_dict(self) -> dict[str, Any]:
        """The entry as the public journal shows it: a dict of plain values, keys in attribute order."""
        # Only the attrs classes below inherit this; mypy cannot tell from the base.
        return attrs.asdict(self, value_serializer=_plain)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class UploadRecord(_Record):
    """One uploaded file of a generation request, by digest: the journal never holds its bytes."""

    sha256: str
    size: int
    filename: str | None
    content_type: str | None

    @classmethod
    def of(cls, upload: Upload) -> UploadRecord:
        """The record of `upload`."""
        digest = hashlib.sha256(upload.data).hexdigest()
        return cls(sha256=digest, size=len(upload.data), filename=upload.filename, content_type=upload.content_type)


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


@attrs.frozen(kw_only=True)
class GenerationRecord(_Record):
    """One ``POST /v1/videos/generations``, as the journal keeps it.

    Attributes:
        request_id: The ``x-request-id`` it was answered with.
        time: When it arrived (Unix time).
        content_type: Its ``Content-Type`` header, if any.
        idempotency_key: Its ``Idempotency-Key`` header, if any.
        authorization: Whether it came with an ``Authorization`` header.
        key: The API key it used, as :func:`key_label` names it; None when none was accepted.
        fields: Its body's fields, text cut to 200 characters.
        files: Its uploads by field name.
        fault: The fault it got, if any (shown as the kind's value: ``"502"``, ``"drop_mid"``).
        status: The status answered; None when the connection was closed without an answer.
        outcome: ``generated``, ``replayed``, ``error:CODE``, ``fault:KIND`` or ``client_disconnected``.
        generation_id: The generation it ran or replayed (``gen-N``), if any.
        answered: When it was answered (Unix time).
    """

    request_id: str
    time: float
    content_type: str | None
    idempotency_key: str | None
    authorization: bool
    key: str | None
    fields: dict[str, Any]
    files: dict[str, UploadRecord]
    fault: FaultKind | None
    status: int | None
    outcome: str | None
    generation_id: str | None
    answered: float

    @classmethod
    def of(cls, request: Request, notes: GenerationNotes, status: int | None) -> GenerationRecord:
        """The entry for `request`, answered with `status` after what `notes` says happened."""
        return cls(
            request_id=notes.request_id,
            time=notes.received,
            content_type=request.headers.get("content-type"),
            idempotency_key=request.headers.get("idempotency-key"),
            authorization="authorization" in request.headers,
            key=None if notes.key is None else key_label(notes.key),
            fields={k: (v[:_FIELD_CHARS] if isinstance(v, str) else v) for k, v in notes.fields.items()},
            files={name: UploadRecord.of(upload) for name, upload in notes.uploads.items()},
            fault=notes.fault,
            status=status,
            outcome=notes.outcome,
            generation_id=notes.generation_id,
            answered=time.time(),
        )


@attrs.frozen(kw_only=True)
class DownloadRecord(_Record):
    """One ``GET``/``HEAD /files/{name}``, as the journal keeps it.

    Attributes:
        request_id: The ``x-request-id`` it was answered with.
        time: When it arrived (Unix time).
        name: The file name asked for.
        authorization: Whether it came with an ``Authorization`` header (the CDN needs none).
        range: Its ``Range`` header, if any.
        if_range: Its ``If-Range`` header, if any.
        fault: The fault it got, if any (shown as the kind's value: ``"drop_download"``).
        status: The status answered (206 for a range served).
    """

    request_id: str
    time: float
    name: str
    authorization: bool
    range: str | None
    if_range: str | None
    fault: FaultKind | None
    status: int

    @classmethod
    def of(
        cls, request: Request, *, request_id: str, received: float, fault: FaultKind | None, status: int
    ) -> DownloadRecord:
        """The entry for `request`, answered with `status`."""
        return cls(
            request_id=request_id,
            time=received,
            name=request.path_params["name"],
            authorization="authorization" in request.headers,
            range=request.headers.get("range"),
            if_range=request.headers.get("if-range"),
            fault=fault,
            status=status,
        )
