"""A generation's arguments, checked, turned into the request body and headers every attempt sends."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from . import _generated, _validate
from ._media import Media, Upload, Url, media_input
from ._validate import IDEMPOTENCY_HEADER

_IDEMPOTENCY_LOWER = IDEMPOTENCY_HEADER.lower()


class GenerateParams(NamedTuple):
    """The fields of one generation, as the caller gave them (None: not sent, the API's default applies)."""

    model: str
    prompt: str | None = None
    duration: int | None = None
    resolution: str | None = None
    fps: int | None = None
    aspect_ratio: str | None = None
    image: object = None
    audio: object = None
    draft: bool | None = None
    save_audio: bool | None = None
    prompt_upsampling: bool | None = None


class PreparedRequest(NamedTuple):
    """What every attempt of one call sends: the body as httpx arguments, the headers, the uploads they stream.

    Attributes:
        body: ``{"json": ...}`` or ``{"files": ...}``, for ``httpx.Client.build_request``.
        headers: The call's own headers: its ``Idempotency-Key`` and the caller's ``extra_headers``.
        uploads: The local inputs the body streams.
        idempotency_key: The same on every attempt, so a server that honours it runs the work once.
    """

    body: dict[str, Any]
    headers: dict[str, str]
    uploads: tuple[Upload, ...]
    idempotency_key: str

    @property
    def resendable(self) -> bool:
        """False when an upload is a stream that cannot be rewound for a second attempt."""
        return all(upload.seekable for upload in self.uploads)

    def close(self) -> None:
        """Close the files the SDK opened."""
        for upload in self.uploads:
            upload.close()


def merge_headers(*layers: Mapping[str, str]) -> dict[str, str]:
    """One header per name, case-insensitively; a later layer's value (and spelling) wins.

    HTTP header names are case-insensitive, so ``authorization`` from a caller and the SDK's
    ``Authorization`` are one header: merging plain dicts would send both.
    """
    merged: dict[str, tuple[str, str]] = {}
    for layer in layers:
        if not layer:  # usually no default_headers: skip the loop's setup (every call pays for this)
            continue
        for key, value in layer.items():
            merged[key.lower()] = (key, value)
    return dict(merged.values())


def idempotency_key() -> str:
    """A fresh key, ``qv-`` and a random (version 4) UUID's text, as ``uuid.uuid4()`` would give.

    Built from the hex digits directly: ``str(uuid.uuid4())`` costs a few microseconds per call.
    """
    h = os.urandom(16).hex()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"qv-{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def _multipart_value(value: int | bool | None) -> str | None:
    """Encode as the spec's multipart examples do: ``'5'``, ``'true'``, ``'false'``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _body(params: GenerateParams, image: Media | None, audio: Media | None) -> dict[str, Any]:
    """The body as httpx arguments: JSON unless something has to be uploaded."""
    if image is None and audio is None:  # the usual call, built without the dicts below (every call pays)
        fields = {"model": params.model, "prompt": params.prompt, "resolution": params.resolution,
                  "aspect_ratio": params.aspect_ratio, "duration": params.duration, "fps": params.fps,
                  "draft": params.draft, "save_audio": params.save_audio,
                  "prompt_upsampling": params.prompt_upsampling}  # fmt: skip
        return {"json": _generated.json_body({k: v for k, v in fields.items() if v is not None})}
    common: dict[str, Any] = {
        "model": params.model,
        "prompt": params.prompt,
        "resolution": params.resolution,
        "aspect_ratio": params.aspect_ratio,
    }
    urls = {name: m.url for name, m in (("image", image), ("audio", audio)) if isinstance(m, Url)}
    uploads = {name: m for name, m in (("image_file", image), ("audio_file", audio)) if isinstance(m, Upload)}
    numbers = {"duration": params.duration, "fps": params.fps}
    flags = {"draft": params.draft, "save_audio": params.save_audio, "prompt_upsampling": params.prompt_upsampling}
    if not uploads:
        json_fields = {**common, **urls, **numbers, **flags}
        return {"json": _generated.json_body({k: v for k, v in json_fields.items() if v is not None})}
    encoded = {k: _multipart_value(v) for k, v in {**numbers, **flags}.items()}
    form_fields = {k: v for k, v in {**common, **urls, **encoded}.items() if v is not None}
    files = {k: (u.filename, u.content, u.mime_type) for k, u in uploads.items()}
    return {"files": _generated.multipart_body(form_fields, files)}


def prepare(params: GenerateParams, extra_headers: object = None) -> PreparedRequest:
    """Check every field and build the request; raises before anything is sent, closing what it opened.

    Raises:
        InvalidParameterError: a value that is not allowed (the message says what is).
        ParameterTypeError: a value of the wrong type.
    """
    # Spelled out field by field, not looped over names with getattr: every call pays for this.
    _validate.text("model", params.model, required=True)
    _validate.text("prompt", params.prompt)
    if params.resolution is not None:
        _validate.text("resolution", params.resolution)
    if params.aspect_ratio is not None:
        _validate.text("aspect_ratio", params.aspect_ratio)
    if params.duration is not None:
        _validate.whole("duration", params.duration)
    if params.fps is not None:
        _validate.whole("fps", params.fps)
    if params.draft is not None:
        _validate.flag("draft", params.draft)
    if params.save_audio is not None:
        _validate.flag("save_audio", params.save_audio)
    if params.prompt_upsampling is not None:
        _validate.flag("prompt_upsampling", params.prompt_upsampling)
    headers = _validate.headers("extra_headers", extra_headers)
    image = media_input("image", params.image)
    try:
        audio = media_input("audio", params.audio)
    except BaseException:
        if isinstance(image, Upload):
            image.close()
        raise
    uploads = tuple(m for m in (image, audio) if isinstance(m, Upload))
    # The caller may choose the Idempotency-Key (any spelling, given once) to span processes.
    chosen = next((k for k in headers if k.lower() == _IDEMPOTENCY_LOWER), None) if headers else None
    key = headers.pop(chosen) if chosen else idempotency_key()
    merged = merge_headers({IDEMPOTENCY_HEADER: key}, headers) if headers else {IDEMPOTENCY_HEADER: key}
    return PreparedRequest(_body(params, image, audio), merged, uploads, key)
