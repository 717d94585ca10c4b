"""One model's catalog entry: :class:`ModelSpec`, and the checks of each of its fields.

Every check raises ValueError naming where the bad value is (``models.p-video.fps.default``),
with a bounded preview of the value: a catalog of one's own is checked as strictly as the
built-in one, and a hostile one cannot make a message, or a frame, of gigabytes.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

# What one credit is worth: a tenth of a US cent, so every published price is a whole number of credits.
CREDIT_USD = Decimal("0.001")
MAX_SHORT_SIDE = 4320
MAX_FPS = 240
MAX_DURATION = 600
# The largest frame a catalog may make: H.264 (as libx264 encodes it) takes sides up to 16384
# pixels, and a frame past 40 MP (the cap on input pictures too) is gigabytes of raw video.
MAX_FRAME_SIDE = 16384
MAX_FRAME_PIXELS = 40_000_000
_MODEL_FIELDS = {"extends", "sources", "note", "resolution", "fps", "duration", "aspect_ratio", "image", "audio",
                 "price", "rate_limit"}  # fmt: skip
_REQUIRED = ("resolution", "fps", "duration", "aspect_ratio", "image", "audio", "price")
_NOTES = {"sources", "note"}
# Values are shown in messages through this: a preview, bounded however large or deep the value is.
_PREVIEW = reprlib.Repr()  # attributes set one by one: Python 3.11's Repr() takes no arguments
_PREVIEW.maxlevel = 2
_PREVIEW.maxlist = _PREVIEW.maxdict = _PREVIEW.maxtuple = _PREVIEW.maxset = 4
_PREVIEW.maxstring = _PREVIEW.maxother = 60
_PREVIEW.maxlong = 40


def show(value: Any) -> str:
    """A preview of `value` for a message: bounded, however large or deep the value is."""
    return _PREVIEW.repr(value)


@attrs.frozen
class ModelSpec:
    """What one model accepts and what it costs, as its catalog entry says.

    Attributes:
        name: The model's name, as requests give it.
        resolutions: Each resolution label and the short side of the frame it gives, in pixels.
        default_resolution: The resolution used when a request names none.
        fps: The frame rates accepted (a ``range`` when the entry gives ``min`` and ``max``).
        default_fps: The frame rate used when a request names none.
        durations: The durations accepted, in whole seconds.
        default_duration: The duration used when a request names none.
        aspect_ratios: Each aspect-ratio label and its (width, height) proportions.
        default_aspect_ratio: The aspect ratio used when a request names none.
        image_formats: Input image types accepted, as lower-case extensions (``png``).
        audio_formats: Input audio types accepted, as lower-case extensions (``mp3``).
        image_sets_aspect_ratio: An input image sets the video's shape, and ``aspect_ratio`` is ignored.
        audio_sets_duration: Input audio sets the video's length (capped), and ``duration`` is ignored.
        price_per_second: US dollars per second of video, by resolution.
        draft_price_per_second: US dollars per second of video in draft mode, by resolution.
        rate_limit: Requests per minute the model's maker allows, or None. Recorded, not enforced:
            a key's limit is its ``KeyPolicy.rate_limit``.
    """

    name: str
    resolutions: Mapping[str, int]
    default_resolution: str
    fps: Sequence[int]
    default_fps: int
    durations: Sequence[int]
    default_duration: int
    aspect_ratios: Mapping[str, tuple[int, int]]
    default_aspect_ratio: str
    image_formats: frozenset[str]
    audio_formats: frozenset[str]
    image_sets_aspect_ratio: bool
    audio_sets_duration: bool
    price_per_second: Mapping[str, Decimal]
    draft_price_per_second: Mapping[str, Decimal]
    rate_limit: int | None

    def credits(self, resolution: str, draft: bool, seconds: int) -> int:
        """The credits a generation costs: its price in credits of US$0.001, rounded up.

        Raises:
            KeyError: the model has no such resolution.
        """
        price = (self.draft_price_per_second if draft else self.price_per_second)[resolution]
        return math.ceil(price * seconds / CREDIT_USD)


def model_spec(name: str, entry: Any, where: str, builtin: Callable[[], Mapping[str, Any]]) -> ModelSpec:
    """Check one catalog entry and make its :class:`ModelSpec`; `builtin` gives the built-in entries (for ``extends``).

    Raises:
        ValueError: a field is missing, unknown or wrong (the message names where, from `where`).
    """
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a mapping of fields, got {type(entry).__name__}")
    entry = dict(entry)
    base = entry.pop("extends", None)
    if base is not None:
        builtin_models = builtin()
        if not isinstance(base, str) or base not in builtin_models:
            raise ValueError(
                f"{where}.extends: {show(base)} is not a built-in model; built-in: {', '.join(builtin_models)}"
            )
        entry = _extend(builtin_models[base], entry)
    unknown = sorted(set(entry) - _MODEL_FIELDS, key=str)
    if unknown:
        raise ValueError(
            f"{where}: unknown field {show(unknown[0])}; known: {', '.join(sorted(_MODEL_FIELDS - _NOTES))}"
        )
    missing = [field for field in _REQUIRED if field not in entry]
    if missing:
        raise ValueError(f"{where}: missing field {missing[0]!r} (or start from a built-in model: extends: p-video)")
    resolutions, resolution_default = _resolutions(entry["resolution"], f"{where}.resolution")
    fps, fps_default = _whole_numbers(entry["fps"], f"{where}.fps", MAX_FPS)
    durations, duration_default = _whole_numbers(entry["duration"], f"{where}.duration", MAX_DURATION)
    ratios, ratio_default = _aspect_ratios(entry["aspect_ratio"], f"{where}.aspect_ratio")
    _check_frames(resolutions, ratios, f"{where}.resolution.values")
    image_formats, image_sets = _media(entry["image"], f"{where}.image", "sets_aspect_ratio")
    audio_formats, audio_sets = _media(entry["audio"], f"{where}.audio", "sets_duration")
    prices, draft_prices = _prices(entry["price"], list(resolutions), f"{where}.price")
    return ModelSpec(
        name=name,
        resolutions=resolutions,
        default_resolution=resolution_default,
        fps=fps,
        default_fps=fps_default,
        durations=durations,
        default_duration=duration_default,
        aspect_ratios=ratios,
        default_aspect_ratio=ratio_default,
        image_formats=image_formats,
        audio_formats=audio_formats,
        image_sets_aspect_ratio=image_sets,
        audio_sets_duration=audio_sets,
        price_per_second=prices,
        draft_price_per_second=draft_prices,
        rate_limit=_rate_limit(entry.get("rate_limit"), f"{where}.rate_limit"),
    )


def _extend(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A built-in entry with some fields changed: a field's keys given replace the base's, others stay.

    ``values`` and ``min``/``max`` replace each other, so ``fps: {values: [24, 30]}`` keeps the
    built-in default and ``duration: {max: 20}`` keeps ``min``.
    """
    entry = dict(base)
    for field, change in changes.items():
        if isinstance(change, Mapping) and isinstance(base.get(field), Mapping):
            merged = dict(base[field])
            if "values" in change:
                merged.pop("min", None)
                merged.pop("max", None)
            if "min" in change or "max" in change:
                merged.pop("values", None)
            entry[field] = {**merged, **change}
        else:
            entry[field] = change
    return entry


def _section(value: Any, where: str, fields: set[str]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a mapping, got {show(value)}")
    unknown = sorted(set(value) - fields - _NOTES, key=str)
    if unknown:
        raise ValueError(f"{where}: unknown key {show(unknown[0])}; known: {', '.join(sorted(fields))}")
    return dict(value)


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}: expected a whole number from {low} to {high}, got {show(value)}")
    return value


def _short_side(value: Any, where: str) -> int:
    side = _whole(value, where, 2, MAX_SHORT_SIDE)
    if side % 2:
        raise ValueError(f"{where}: the short side must be even (H.264 frames are), got {side}")
    return side


def _ratio(label: Any, where: str) -> tuple[int, int]:
    if isinstance(label, int) and not isinstance(label, bool):
        # YAML 1.1 reads an unquoted 16:9 as the base-60 number 969.
        raise ValueError(f'{where}: {show(label)} is not W:H; quote aspect ratios in YAML ("16:9")')
    width, _, height = str(label).partition(":")
    # ASCII digits only: str.isdigit() also takes "²" and Arabic-Indic digits, which requests never send.
    digits = width.isascii() and height.isascii() and width.isdigit() and height.isdigit()
    if not (digits and int(width) > 0 and int(height) > 0):
        raise ValueError(f"{where}: {show(label)} is not W:H with two positive whole numbers (ASCII digits)")
    if max(int(width), int(height)) > 100 * min(int(width), int(height)):
        raise ValueError(f"{where}: {show(label)} is more than 100 times wider than tall, or taller than wide")
    return int(width), int(height)


def _check_frames(resolutions: Mapping[str, int], ratios: Mapping[str, tuple[int, int]], where: str) -> None:
    """Refuse a resolution whose frames, at the widest (or tallest) aspect ratio, cannot be rendered."""
    label, (a, b) = max(ratios.items(), key=lambda item: max(item[1]) / min(item[1]))
    for name, short in resolutions.items():
        long = short * max(a, b) / min(a, b)
        if long > MAX_FRAME_SIDE or short * long > MAX_FRAME_PIXELS:
            raise ValueError(
                f"{where}.{name}: a {short}-pixel short side at aspect ratio {label} makes {round(long)}x{short} "
                f"frames; frames are at most {MAX_FRAME_SIDE} pixels long and {MAX_FRAME_PIXELS:,} pixels"
            )


def _resolutions(value: Any, where: str) -> tuple[dict[str, int], str]:
    section = _section(value, where, {"values", "default"})
    values = section.get("values")
    if not isinstance(values, Mapping) or not values:
        raise ValueError(f"{where}.values: expected a mapping of label to short side in pixels, got {show(values)}")
    sides = {str(label): _short_side(side, f"{where}.values.{label}") for label, side in values.items()}
    return sides, _default(section, sides, where)


def _aspect_ratios(value: Any, where: str) -> tuple[dict[str, tuple[int, int]], str]:
    section = _section(value, where, {"values", "default"})
    values = section.get("values")
    if not isinstance(values, list) or not values:
        raise ValueError(f"{where}.values: expected a list of W:H labels, got {show(values)}")
    ratios = {str(label): _ratio(label, f"{where}.values") for label in values}
    if isinstance(section.get("default"), int) and not isinstance(section["default"], bool):
        _ratio(section["default"], f"{where}.default")  # the YAML base-60 trap: explain it
    return ratios, _default(section, ratios, where)


def _default(section: Mapping[str, Any], allowed: Mapping[str, Any], where: str) -> str:
    default = section.get("default")
    if default is None or str(default) not in allowed:
        raise ValueError(f"{where}.default: {show(default)} is not one of {', '.join(allowed)}")
    return str(default)


def _whole_numbers(value: Any, where: str, high: int) -> tuple[Sequence[int], int]:
    section = _section(value, where, {"values", "min", "max", "default"})
    numbers: Sequence[int]
    if "values" in section:
        if "min" in section or "max" in section:
            raise ValueError(f"{where}: give either values or min and max, not both")
        raw = section["values"]
        if not isinstance(raw, list) or not raw:
            raise ValueError(f"{where}.values: expected a list of whole numbers, got {show(raw)}")
        numbers = tuple(sorted({_whole(n, f"{where}.values", 1, high) for n in raw}))
    else:
        low = _whole(section.get("min"), f"{where}.min", 1, high)
        top = _whole(section.get("max"), f"{where}.max", 1, high)
        if low > top:
            raise ValueError(f"{where}: min {low} is above max {top}")
        numbers = range(low, top + 1)
    default = section.get("default")
    if isinstance(default, bool) or not isinstance(default, int) or default not in numbers:
        raise ValueError(f"{where}.default: {show(default)} is not among the values allowed ({describe(numbers)})")
    return numbers, default


def _media(value: Any, where: str, flag: str) -> tuple[frozenset[str], bool]:
    section = _section(value, where, {"formats", flag})
    formats = section.get("formats")
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and f.strip(".") for f in formats):
        raise ValueError(f"{where}.formats: expected a list of file extensions, got {show(formats)}")
    sets = section.get(flag, False)
    if not isinstance(sets, bool):
        raise ValueError(f"{where}.{flag}: expected true or false, got {show(sets)}")
    return frozenset(f.strip(".").lower() for f in formats), sets


def _prices(value: Any, resolutions: list[str], where: str) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    section = _section(value, where, {"per_second", "draft_per_second"})
    tables = []
    for key in ("per_second", "draft_per_second"):
        table = section.get(key)
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}.{key}: expected US dollars per second by resolution, got {show(table)}")
        for label, price in table.items():
            if str(label) not in resolutions:
                raise ValueError(
                    f"{where}.{key}: {show(label)} is not one of the resolutions ({', '.join(resolutions)})"
                )
            if isinstance(price, bool) or not isinstance(price, int | float) or not 0 <= price < 1000:
                raise ValueError(f"{where}.{key}.{label}: expected a price in US dollars, got {show(price)}")
        missing = [label for label in resolutions if label not in {str(given) for given in table}]
        if missing:
            raise ValueError(f"{where}.{key}: no price for {missing[0]}")
        # Through str: Decimal(0.02) would carry the float's binary error into the credit count.
        tables.append({str(label): Decimal(str(price)) for label, price in table.items()})
    return tables[0], tables[1]


def _rate_limit(value: Any, where: str) -> int | None:
    if value is None:
        return None
    section = _section(value, where, {"per_minute"})
    limit = section.get("per_minute")
    return None if limit is None else _whole(limit, f"{where}.per_minute", 1, 1_000_000)


def describe(numbers: Sequence[int]) -> str:
    """Allowed whole numbers in words: ``between 1 and 10`` for a range, ``one of 24, 48`` otherwise."""
    if isinstance(numbers, range) and len(numbers) > 2:
        return f"between {numbers[0]} and {numbers[-1]}"
    return "one of " + ", ".join(str(n) for n in numbers)
