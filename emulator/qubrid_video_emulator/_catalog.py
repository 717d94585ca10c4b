"""The model catalog: which models exist, what each accepts and what each costs.

The built-in catalog is ``models.yaml`` beside this module; its comments say where each value
comes from. A catalog of one's own has the same shape (YAML or JSON) and is checked as strictly:
an unknown field, a default outside its values or a missing price is an error naming where it is.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from ._entry import ModelSpec, model_spec, show

BUILTIN_PATH = Path(__file__).with_name("models.yaml")
# A catalog is a few kilobytes; reading stops well before a runaway file fills memory.
MAX_FILE_BYTES = 1024 * 1024


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
            raise ValueError(f"{origin}: 'models' maps each model's name to its entry, got {show(data['models'])}")
        document = data if "models" in data else {"models": data}
        unknown = sorted(set(document) - {"models", "sources"}, key=str)
        if unknown:
            raise ValueError(f"{origin}: unknown top-level key {show(unknown[0])}; known: models, sources")
        entries = document["models"]
        if not entries:
            raise ValueError(f"{origin}: 'models' names no model")
        for name in entries:
            if not isinstance(name, str) or not name.strip() or name != name.strip() or not name.isprintable():
                raise ValueError(
                    f"{origin}: models: {show(name)} is not a model name (a string, not empty, without surrounding "
                    "spaces or invisible characters; quote it in YAML)"
                )
        models = {
            name: model_spec(name, entry, f"{origin}: models.{name}", _builtin_models)
            for name, entry in entries.items()
        }
        return cls(models=models, origin=origin)

    @classmethod
    def from_names(cls, names: Iterable[str]) -> Catalog:
        """A catalog of these models, each accepting and costing what the built-in p-video does."""
        names = list(names)
        if not names or any(not isinstance(n, str) or not n.strip() for n in names):
            raise ValueError(f"models: expected a catalog, a catalog file's path or model names, got {show(names)}")
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


def _builtin_models() -> Mapping[str, Any]:
    return _builtin_document()["models"]  # type: ignore[no-any-return]
