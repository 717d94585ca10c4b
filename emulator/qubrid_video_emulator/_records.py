"""The journal's entries, as tests read them: what arrived, and what became of it.

Frozen attrs classes of plain values (and one enum), so an entry compares with ``==``, prints
readably and cannot be changed by the test reading it. They need nothing beyond attrs: the
package exports them without loading the server.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._faults import FaultKind


def _plain(instance: Any, field: attrs.Attribute[Any], value: Any) -> Any:
    return value.value if isinstance(value, FaultKind) else value


class _Entry:
    def as_dict(self) -> dict[str, Any]:
        """The entry as plain JSON-able values, keys in attribute order (as ``GET /_emulator/journal`` shows it).

        Returns:
            A new dict; nested entries (uploads) become dicts too, and a fault becomes its kind's value.
        """
        # Only the attrs classes below inherit this; mypy cannot tell from the base.
        return attrs.asdict(self, value_serializer=_plain)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class UploadRecord(_Entry):
    """One file uploaded with a generation request, by digest: the journal never holds its bytes.

    Attributes:
        sha256: The hex SHA-256 of the bytes received.
        size: How many bytes were received.
        filename: The file name the multipart part gave, if any.
        content_type: The ``Content-Type`` the multipart part gave, if any.
    """

    sha256: str
    size: int
    filename: str | None
    content_type: str | None


@attrs.frozen(kw_only=True)
class GenerationRecord(_Entry):
    """One ``POST /v1/videos/generations`` as the journal keeps it (:meth:`Emulator.requests`).

    Attributes:
        request_id: The ``x-request-id`` it was answered with.
        time: When it arrived (Unix time).
        content_type: Its ``Content-Type`` header, if any.
        idempotency_key: Its ``Idempotency-Key`` header, if any.
        authorization: Whether it came with an ``Authorization`` header.
        key: The API key it used, as a short digest (``"key:…"``); None when no key was accepted.
            The journal never holds a key itself.
        fields: Its body's fields as received (strings in a multipart form, JSON values otherwise),
            text cut to 200 characters.
        files: Its uploads by field name (``"image_file"``, ``"audio_file"``).
        fault: The fault it got, if any. A :class:`FaultKind` is a ``str``: ``entry.fault == "502"`` holds.
        status: The status answered; None when the connection was closed without an answer.
        outcome: ``"generated"``, ``"replayed"`` (an ``Idempotency-Key`` seen before), ``"error:CODE"``
            (the error body's ``code``), ``"fault:KIND"`` or ``"client_disconnected"``.
        generation_id: The generation it ran or replayed (``"gen-N"``), if any.
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


@attrs.frozen(kw_only=True)
class DownloadRecord(_Entry):
    """One ``GET`` or ``HEAD /files/{name}`` as the journal keeps it (:meth:`Emulator.downloads`).

    Attributes:
        request_id: The ``x-request-id`` it was answered with.
        time: When it arrived (Unix time).
        name: The file name asked for.
        authorization: Whether it came with an ``Authorization`` header (the CDN needs none, and a
            client that sends the API key there leaks it).
        range: Its ``Range`` header, if any.
        if_range: Its ``If-Range`` header, if any.
        fault: The fault it got, if any (``"drop_download"``, ``"slow_download"``).
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
