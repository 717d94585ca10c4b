"""A griffe extension for the docs site: reST roles in docstrings become links to the documented objects.

The docstrings name other objects with roles (``:class:`Timeout```, ``:meth:`Video.download```),
which read well in ``help()`` and IDEs but which mkdocstrings shows raw. Each role becomes a
cross-reference to the page that documents its object (``mkdocs.yml`` loads this file), or
plain code when that object has no page of its own (a private helper such as ``._call.Call``),
so that ``mkdocs build --strict`` never meets a link to nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|meth|func|data|mod|attr|exc|obj):`~?([^`]+)`")
# reST's "Example::" introduces the indented code after it, which Markdown already reads as code.
LITERAL_MARKER = re.compile(r"(?<=\S)::$", re.MULTILINE)
# The namespaces the reference pages document: a name found under one of them has a page.
PUBLIC = ("qubrid_video", "qubrid_video.contract", "qubrid_video_emulator")


def _documented(path: str, collection: griffe.ModulesCollection) -> bool:
    """Whether `path` names an object the reference pages render (public all the way down)."""
    if any(part.startswith("_") for part in path.split(".")):
        return False
    try:
        collection.get_member(path)
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return False
    return True


def _candidates(obj: griffe.Object | griffe.Alias, target: str) -> list[str]:
    """Where `target`, as written in `obj`'s docstring, may be documented: beside `obj`, then in each namespace."""
    found = []
    parent = obj.parent
    if isinstance(parent, griffe.Class):
        # `:meth:`run`` in a method of Emulator means Emulator.run, under the name Emulator is documented by.
        found += [f"{namespace}.{parent.name}.{target}" for namespace in PUBLIC]
    found += [f"{namespace}.{target}" for namespace in PUBLIC]
    return [*found, target]  # already a full path (`:mod:`qubrid_video.contract``)


def link(obj: griffe.Object | griffe.Alias, target: str, collection: griffe.ModulesCollection) -> str:
    """The Markdown for one role: a cross-reference when its object is documented, else code."""
    if target.startswith("."):  # relative to the package: an object of a private module, which has no page
        return f"`{target.rsplit('.', 1)[-1]}`"
    for path in _candidates(obj, target):
        if _documented(path, collection):
            return f"[`{target}`][{path}]"
    return f"`{target}`"


def _objects(obj: griffe.Object) -> list[griffe.Object]:
    """`obj` and every object defined inside it (aliases to elsewhere are skipped: their target is visited)."""
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias and isinstance(member, griffe.Object):
            found += _objects(member)
    return found


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring of a package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Rewrite each docstring of `pkg` in place."""
        for obj in _objects(pkg):
            if obj.docstring is not None:
                text = LITERAL_MARKER.sub(":", obj.docstring.value)
                obj.docstring.value = ROLE.sub(_linker(obj, loader.modules_collection), text)


def _linker(obj: griffe.Object, collection: griffe.ModulesCollection) -> Callable[[re.Match[str]], str]:
    """The replacement for each role found in `obj`'s docstring."""
    return lambda match: link(obj, match.group(1), collection)
