"""What a generation request asks for, checked beyond the schema: against the model's catalog entry."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs

from ._entry import ModelSpec, describe
from ._errors import RequestError, bad_request

MAX_PROMPT_CHARS = 4000
MAX_DIGITS = 30
_WHOLE_NUMBER = re.compile(r"[+-]?([0-9]+)")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@attrs.frozen
class Upload:
    """One uploaded file part."""

    data: bytes
    filename: str | None
    content_type: str | None


@attrs.frozen
class GenerationParams:
    """A generation request, normalised: defaults applied, multipart strings converted."""

    model: str
    prompt: str
    duration: int
    fps: int
    resolution: str
    aspect_ratio: str
    draft: bool
    save_audio: bool
    prompt_upsampling: bool
    image_url: str | None
    audio_url: str | None
    image_file: Upload | None
    audio_file: Upload | None


def _integer(fields: dict[str, Any], name: str, default: int, allowed: Sequence[int], model: str) -> int:
    raw = fields.get(name, default)
    out_of_range = f"Invalid value for '{name}': must be {describe(allowed)} for {model}, got"
    if isinstance(raw, str):
        # ASCII digits only: str.isdigit() also accepts '²' (which int() refuses) and other scripts' digits.
        match = _WHOLE_NUMBER.fullmatch(raw.strip())
        if match is None:
            raise bad_request(f"Invalid value for '{name}': expected a whole number, got {raw[:40]!r}.", param=name)
        digits = len(match.group(1).lstrip("0"))
        if digits > MAX_DIGITS:
            # int() refuses more than 4,300 digits (a ValueError, once a 500), and no field needs 30.
            raise bad_request(f"{out_of_range} a number of {digits} digits.", param=name)
        raw = int(match.group(0))
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise bad_request(f"Invalid type for '{name}': expected integer.", param=name)
    if raw not in allowed:
        raise bad_request(f"{out_of_range} {raw}.", param=name)
    return raw


def _boolean(fields: dict[str, Any], name: str, default: bool) -> bool:
    raw = fields.get(name, default)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise bad_request(f"Invalid value for '{name}': expected 'true' or 'false'.", param=name)


def _choice(fields: dict[str, Any], name: str, default: str, allowed: Mapping[str, Any], model: str) -> str:
    raw = fields.get(name, default)
    if raw not in allowed:
        choices = ", ".join(allowed)
        message = f"Invalid value for '{name}': must be one of {choices} for {model}, got {str(raw)[:40]!r}."
        raise bad_request(message, param=name)
    return str(raw)


def _url(fields: dict[str, Any], name: str) -> str | None:
    raw = fields.get(name)
    if raw is None or raw == "":
        return None
    parts = urlsplit(str(raw))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request(f"Invalid value for '{name}': expected an http(s) URL.", param=name)
    return str(raw)


def parse_params(
    fields: dict[str, Any], files: dict[str, Upload], models: Mapping[str, ModelSpec]
) -> tuple[GenerationParams, ModelSpec]:
    """Check every field against the model's catalog entry and apply its defaults.

    Raises:
        RequestError: a 400 naming the first bad field and what it allows, or a 404 for a model
            not in `models`.
    """
    model = fields.get("model")
    if not isinstance(model, str) or not model.strip():
        raise bad_request("Missing required parameter: 'model'.", param="model")
    prompt = fields.get("prompt", "")
    if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS:
        raise bad_request(
            f"Invalid value for 'prompt': expected text of at most {MAX_PROMPT_CHARS} characters.", param="prompt"
        )
    spec = models.get(model)
    if spec is None:
        raise RequestError(404, f"The model '{model[:100]}' does not exist or is not available.", param="model")
    params = GenerationParams(
        model=model,
        prompt=prompt,
        duration=_integer(fields, "duration", spec.default_duration, spec.durations, model),
        fps=_integer(fields, "fps", spec.default_fps, spec.fps, model),
        resolution=_choice(fields, "resolution", spec.default_resolution, spec.resolutions, model),
        aspect_ratio=_choice(fields, "aspect_ratio", spec.default_aspect_ratio, spec.aspect_ratios, model),
        draft=_boolean(fields, "draft", False),
        save_audio=_boolean(fields, "save_audio", True),
        prompt_upsampling=_boolean(fields, "prompt_upsampling", True),
        image_url=_url(fields, "image"),
        audio_url=_url(fields, "audio"),
        image_file=files.get("image_file"),
        audio_file=files.get("audio_file"),
    )
    for name, upload in (("image_file", params.image_file), ("audio_file", params.audio_file)):
        if upload is not None and not upload.data:
            raise bad_request(f"Invalid value for '{name}': the uploaded file is empty.", param=name)
    return params, spec


def upsample(prompt: str) -> str:
    """What prompt upsampling makes of a prompt: the same idea, spelled out for the renderer."""
    base = prompt.strip() or "An untitled scene"
    return f"{base}, cinematic lighting, gentle camera motion, rich detail"
