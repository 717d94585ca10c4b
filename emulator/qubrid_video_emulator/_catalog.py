"""The model catalog: which models exist, what each accepts and what each costs.

The built-in catalog is ``models.yaml`` beside this module; its comments say where each value
comes from. A catalog of one's own has the same shape (YAML or JSON) and is checked as strictly:
an unknown field, a default outside its values or a missing price is an error naming where it is.
"""

from __future__ import annotations

import functools
import math
import os
import reprlib
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

BUILTIN_PATH = Path(__file__).with_name("models.yaml")
# What one credit is worth: a tenth of a US cent, so every published price is a whole number of credits.
CREDIT_USD = Decimal("0.001")
MAX_SHORT_SIDE = 4320
MAX_FPS = 240
MAX_DURATION = 600
# The largest frame a catalog may make: H.264 (as libx264 encodes it) takes sides up to 16384
# pixels, and a frame past 40 MP (the cap on input pictures too) is gigabytes of raw video.
MAX_FRAME_SIDE = 16384
MAX_FRAME_PIXELS = 40_000_000
# A catalog is a few kilobytes; reading stops well before a runaway file fills memory.
MAX_FILE_BYTES = 1024 * 1024
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


def _show(value: Any) -> str:
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


@attrs.frozen
class Catalog(Mapping[str, ModelSpec]):
    """The models an emulator knows, by name: a read-only mapping of :class:`ModelSpec`.

    Attributes:
        models: The entries, by name.
        origin: Where it was read from (``built-in``, a path, or ``<dict>``), for messages.
    """

    models: Mapping[str, ModelSpec]
    origin: str = "built-in"

    def __getitem__(self, name: str) -> ModelSpec:
        return self.models[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)

    @classmethod
    def default(cls) -> Catalog:
        """The built-in catalog (``models.yaml``): p-video as published."""
        return _builtin()

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Catalog:
        """Read a catalog file (YAML or JSON) shaped like the built-in one.

        Raises:
            ValueError: the file cannot be read, is not YAML, or is not a valid catalog (the
                message names the file and the field).
        """
        yaml = _yaml()
        try:
            data = yaml.load(_read(path), Loader=_loader())
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
            raise ValueError(f"cannot read a model catalog from {os.fspath(path)}: {exc}") from None
        return cls.from_dict(data, origin=os.fspath(path))

    @classmethod
    def from_dict(cls, data: Any, *, origin: str = "<dict>") -> Catalog:
        """A catalog from data shaped like the file (``{"models": {...}}``) or its ``models`` alone.

        Raises:
            ValueError: the data is not a valid catalog (the message names the field).
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"{origin}: a model catalog is a mapping with a 'models' key, not {type(data).__name__}")
        if "models" in data and not isinstance(data["models"], Mapping):
            raise ValueError(f"{origin}: 'models' maps each model's name to its entry, got {_show(data['models'])}")
        document = data if "models" in data else {"models": data}
        unknown = sorted(set(document) - {"models", "sources"}, key=str)
        if unknown:
            raise ValueError(f"{origin}: unknown top-level key {_show(unknown[0])}; known: models, sources")
        entries = document["models"]
        if not entries:
            raise ValueError(f"{origin}: 'models' names no model")
        for name in entries:
            if not isinstance(name, str) or not name.strip() or name != name.strip() or not name.isprintable():
                raise ValueError(
                    f"{origin}: models: {_show(name)} is not a model name (a string, not empty, without surrounding "
                    "spaces or invisible characters; quote it in YAML)"
                )
        models = {name: _model(name, entry, f"{origin}: models.{name}") for name, entry in entries.items()}
        return cls(models=models, origin=origin)

    @classmethod
    def from_names(cls, names: Iterable[str]) -> Catalog:
        """A catalog of these models, each accepting and costing what the built-in p-video does."""
        names = list(names)
        if not names or any(not isinstance(n, str) or not n.strip() for n in names):
            raise ValueError(f"models: expected a catalog, a catalog file's path or model names, got {_show(names)}")
        return cls.from_dict({"models": {name: {"extends": "p-video"} for name in names}}, origin="built-in")


def to_catalog(value: Catalog | str | os.PathLike[str] | Mapping[str, Any] | Iterable[str]) -> Catalog:
    """What ``EmulatorConfig(models=...)`` accepts, as a :class:`Catalog`.

    A catalog is kept; a path (``str`` or ``PathLike``) is read; a mapping is read as
    :meth:`Catalog.from_dict` reads it; any other iterable names models that behave as p-video.
    """
    if isinstance(value, Catalog):
        return value
    if isinstance(value, str | os.PathLike):
        return Catalog.load(value)
    if isinstance(value, Mapping):
        return Catalog.from_dict(value)
    return Catalog.from_names(value)


def _read(path: str | os.PathLike[str]) -> str:
    """The file's text: a regular file (a FIFO or a device would block or never end), at most 1 MiB."""
    # O_NONBLOCK: opening a FIFO would otherwise wait for a writer; it changes nothing for a file.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES} bytes, which no catalog needs")
    return data.decode("utf-8")


@functools.cache
def _loader() -> Any:
    """PyYAML's SafeLoader, refusing aliases.

    A catalog never needs them, and nested ones multiply a small file into billions of values.
    """
    yaml = _yaml()

    class NoAliasLoader(yaml.SafeLoader):  # type: ignore[misc,name-defined]
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not allowed in a model catalog: write the value out", mark
                )
            return super().compose_node(parent, index)

    return NoAliasLoader


def _yaml() -> Any:
    # Imported on first use: PyYAML comes with the emulator extra, and the pytest plugin and the
    # public types (EmulatorConfig, the journal's entries) import without it.
    import yaml  # noqa: PLC0415

    return yaml


@functools.cache
def _builtin_document() -> dict[str, Any]:
    data = _yaml().safe_load(BUILTIN_PATH.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TypeError(f"{BUILTIN_PATH} is not a catalog")
    return data


@functools.cache
def _builtin() -> Catalog:
    return Catalog.from_dict(_builtin_document(), origin="built-in")


def _model(name: str, entry: Any, where: str) -> ModelSpec:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a mapping of fields, got {type(entry).__name__}")
    entry = dict(entry)
    base = entry.pop("extends", None)
    if base is not None:
        builtin = _builtin_document()["models"]
        if not isinstance(base, str) or base not in builtin:
            raise ValueError(f"{where}.extends: {_show(base)} is not a built-in model; built-in: {', '.join(builtin)}")
        entry = _extend(builtin[base], entry)
    unknown = sorted(set(entry) - _MODEL_FIELDS, key=str)
    if unknown:
        raise ValueError(
            f"{where}: unknown field {_show(unknown[0])}; known: {', '.join(sorted(_MODEL_FIELDS - _NOTES))}"
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
        raise ValueError(f"{where}: expected a mapping, got {_show(value)}")
    unknown = sorted(set(value) - fields - _NOTES, key=str)
    if unknown:
        raise ValueError(f"{where}: unknown key {_show(unknown[0])}; known: {', '.join(sorted(fields))}")
    return dict(value)


def _whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}: expected a whole number from {low} to {high}, got {_show(value)}")
    return value


def _short_side(value: Any, where: str) -> int:
    side = _whole(value, where, 2, MAX_SHORT_SIDE)
    if side % 2:
        raise ValueError(f"{where}: the short side must be even (H.264 frames are), got {side}")
    return side


def _ratio(label: Any, where: str) -> tuple[int, int]:
    if isinstance(label, int) and not isinstance(label, bool):
        # YAML 1.1 reads an unquoted 16:9 as the base-60 number 969.
        raise ValueError(f'{where}: {_show(label)} is not W:H; quote aspect ratios in YAML ("16:9")')
    width, _, height = str(label).partition(":")
    # ASCII digits only: str.isdigit() also takes "²" and Arabic-Indic digits, which requests never send.
    digits = width.isascii() and height.isascii() and width.isdigit() and height.isdigit()
    if not (digits and int(width) > 0 and int(height) > 0):
        raise ValueError(f"{where}: {_show(label)} is not W:H with two positive whole numbers (ASCII digits)")
    if max(int(width), int(height)) > 100 * min(int(width), int(height)):
        raise ValueError(f"{where}: {_show(label)} is more than 100 times wider than tall, or taller than wide")
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
        raise ValueError(f"{where}.values: expected a mapping of label to short side in pixels, got {_show(values)}")
    sides = {str(label): _short_side(side, f"{where}.values.{label}") for label, side in values.items()}
    return sides, _default(section, sides, where)


def _aspect_ratios(value: Any, where: str) -> tuple[dict[str, tuple[int, int]], str]:
    section = _section(value, where, {"values", "default"})
    values = section.get("values")
    if not isinstance(values, list) or not values:
        raise ValueError(f"{where}.values: expected a list of W:H labels, got {_show(values)}")
    ratios = {str(label): _ratio(label, f"{where}.values") for label in values}
    if isinstance(section.get("default"), int) and not isinstance(section["default"], bool):
        _ratio(section["default"], f"{where}.default")  # the YAML base-60 trap: explain it
    return ratios, _default(section, ratios, where)


def _default(section: Mapping[str, Any], allowed: Mapping[str, Any], where: str) -> str:
    default = section.get("default")
    if default is None or str(default) not in allowed:
        raise ValueError(f"{where}.default: {_show(default)} is not one of {', '.join(allowed)}")
    return str(default)


def _whole_numbers(value: Any, where: str, high: int) -> tuple[Sequence[int], int]:
    section = _section(value, where, {"values", "min", "max", "default"})
    numbers: Sequence[int]
    if "values" in section:
        if "min" in section or "max" in section:
            raise ValueError(f"{where}: give either values or min and max, not both")
        raw = section["values"]
        if not isinstance(raw, list) or not raw:
            raise ValueError(f"{where}.values: expected a list of whole numbers, got {_show(raw)}")
        numbers = tuple(sorted({_whole(n, f"{where}.values", 1, high) for n in raw}))
    else:
        low = _whole(section.get("min"), f"{where}.min", 1, high)
        top = _whole(section.get("max"), f"{where}.max", 1, high)
        if low > top:
            raise ValueError(f"{where}: min {low} is above max {top}")
        numbers = range(low, top + 1)
    default = section.get("default")
    if isinstance(default, bool) or not isinstance(default, int) or default not in numbers:
        raise ValueError(f"{where}.default: {_show(default)} is not among the values allowed ({describe(numbers)})")
    return numbers, default


def _media(value: Any, where: str, flag: str) -> tuple[frozenset[str], bool]:
    section = _section(value, where, {"formats", flag})
    formats = section.get("formats")
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) and f.strip(".") for f in formats):
        raise ValueError(f"{where}.formats: expected a list of file extensions, got {_show(formats)}")
    sets = section.get(flag, False)
    if not isinstance(sets, bool):
        raise ValueError(f"{where}.{flag}: expected true or false, got {_show(sets)}")
    return frozenset(f.strip(".").lower() for f in formats), sets


def _prices(value: Any, resolutions: list[str], where: str) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    section = _section(value, where, {"per_second", "draft_per_second"})
    tables = []
    for key in ("per_second", "draft_per_second"):
        table = section.get(key)
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}.{key}: expected US dollars per second by resolution, got {_show(table)}")
        for label, price in table.items():
            if str(label) not in resolutions:
                raise ValueError(
                    f"{where}.{key}: {_show(label)} is not one of the resolutions ({', '.join(resolutions)})"
                )
            if isinstance(price, bool) or not isinstance(price, int | float) or not 0 <= price < 1000:
                raise ValueError(f"{where}.{key}.{label}: expected a price in US dollars, got {_show(price)}")
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
