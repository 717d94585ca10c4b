"""Compare two OpenAPI documents and classify every difference that matters to this SDK.

A focused checker in the spirit of oasdiff's rule catalogue (a Go tool, not installable here).
Requests and responses are judged in opposite directions: a client must still be able to send
what it sends, and must still be able to read what it reads.
"""

from __future__ import annotations

from typing import Any

import attrs
from qubrid_video.contract import resolve

BREAKING, COMPATIBLE = "breaking", "non-breaking"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@attrs.frozen
class Change:
    """One difference: which rule, how bad for this SDK, where (a JSON pointer), and why."""

    rule: str
    severity: str
    pointer: str
    message: str


def pointer(*parts: object) -> str:
    """RFC 6901 pointer from path parts (``/`` and ``~`` escaped)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def add(self, rule: str, breaking: bool, where: tuple[object, ...], message: str) -> None:
        self.changes.append(Change(rule, BREAKING if breaking else COMPATIBLE, pointer(*where), message))

    @staticmethod
    def _resolve(
        doc: dict[str, Any], schema: Any, where: tuple[object, ...]
    ) -> tuple[dict[str, Any], tuple[object, ...]]:
        """Follow local $refs; the location becomes the referenced component's (nothing, if a ref is broken)."""
        try:
            target, at = resolve(schema, doc)
        except LookupError:
            return {}, where
        return (target if isinstance(target, dict) else {}), (at or where)

    # Whole-document rules.

    def run(self) -> list[Change]:
        self._servers()
        self._security()
        old_paths, new_paths = self.old.get("paths") or {}, self.new.get("paths") or {}
        for path in sorted(set(old_paths) - set(new_paths)):
            self.add("path-removed", True, ("paths", path), f"path {path} was removed")
        for path in sorted(set(new_paths) - set(old_paths)):
            self.add("path-added", False, ("paths", path), f"path {path} was added (the SDK does not call it)")
        for path in sorted(set(old_paths) & set(new_paths)):
            for method in METHODS:
                old_op, new_op = old_paths[path].get(method), new_paths[path].get(method)
                where = ("paths", path, method)
                if old_op and not new_op:
                    self.add("operation-removed", True, where, f"{method.upper()} {path} was removed")
                elif new_op and not old_op:
                    self.add("operation-added", False, where, f"{method.upper()} {path} was added")
                elif old_op and new_op:
                    self._operation(old_op, new_op, where)
        return self.changes

    def _servers(self) -> None:
        old = [s.get("url") for s in self.old.get("servers") or []]
        new = [s.get("url") for s in self.new.get("servers") or []]
        if old[:1] != new[:1]:
            message = f"server URL {old[:1]} became {new[:1]}: the SDK's default base_url points at the old one"
            self.add("server-url-changed", True, ("servers", 0, "url"), message)

    def _security(self) -> None:
        old = (self.old.get("components") or {}).get("securitySchemes") or {}
        new = (self.new.get("components") or {}).get("securitySchemes") or {}
        for name in sorted(set(old) | set(new)):
            where = ("components", "securitySchemes", name)
            if name not in new:
                self.add("security-scheme-removed", True, where, f"security scheme {name} was removed")
            elif name not in old:
                self.add(
                    "security-scheme-added",
                    True,
                    where,
                    f"security scheme {name} was added; the SDK sends a bearer key only",
                )
            elif {k: old[name].get(k) for k in ("type", "scheme", "in", "name")} != {
                k: new[name].get(k) for k in ("type", "scheme", "in", "name")
            }:
                self.add("security-scheme-changed", True, where, f"security scheme {name} changed how the key is sent")
        if self.old.get("security") != self.new.get("security"):
            self.add("security-requirement-changed", True, ("security",), "the document's security requirement changed")

    # One operation.

    def _operation(self, old: dict[str, Any], new: dict[str, Any], where: tuple[object, ...]) -> None:
        if old.get("security") != new.get("security"):
            self.add("security-requirement-changed", True, (*where, "security"), "the operation's security changed")
        old_body = (old.get("requestBody") or {}).get("content") or {}
        new_body = (new.get("requestBody") or {}).get("content") or {}
        for media in sorted(set(old_body) | set(new_body)):
            at = (*where, "requestBody", "content", media)
            if media not in new_body:
                self.add(
                    "request-content-type-removed",
                    True,
                    at,
                    f"request content type {media} was removed; the SDK sends it",
                )
            elif media not in old_body:
                self.add("request-content-type-added", False, at, f"request content type {media} was added")
            else:
                self._schema(old_body[media].get("schema"), new_body[media].get("schema"), (*at, "schema"), "request")
        old_responses, new_responses = old.get("responses") or {}, new.get("responses") or {}
        for status in sorted(set(old_responses) | set(new_responses)):
            at = (*where, "responses", status)
            success = str(status).startswith("2")
            if status not in new_responses:
                self.add("response-status-removed", success, at,
                         f"response {status} was removed" + ("; the SDK reads it" if success else ""))  # fmt: skip
            elif status not in old_responses:
                effect = "; the SDK expects 200" if success else "; the SDK raises a plain APIStatusError for it"
                self.add("response-status-added", success, at, f"response {status} was added{effect}")
            else:
                self._response(old_responses[status], new_responses[status], at, "error" if not success else "response")

    def _response(self, old: dict[str, Any], new: dict[str, Any], where: tuple[object, ...], kind: str) -> None:
        old_content, new_content = old.get("content") or {}, new.get("content") or {}
        for media in sorted(set(old_content) | set(new_content)):
            at = (*where, "content", media)
            if media not in new_content:
                self.add(
                    f"{kind}-content-type-removed",
                    True,
                    at,
                    f"{kind} content type {media} was removed; the SDK parses it",
                )
            elif media not in old_content:
                self.add(f"{kind}-content-type-added", False, at, f"{kind} content type {media} was added")
            else:
                self._schema(old_content[media].get("schema"), new_content[media].get("schema"), (*at, "schema"), kind)

    # Schemas, recursively. `kind` is "request" (the SDK writes it) or "response"/"error" (it reads it).

    def _schema(self, old_raw: Any, new_raw: Any, where: tuple[object, ...], kind: str, depth: int = 0) -> None:
        if depth > 12:
            return
        old, _ = self._resolve(self.old, old_raw, where)
        new, at = self._resolve(self.new, new_raw, where)
        writes = kind == "request"
        if old.get("type") != new.get("type"):
            self.add(
                f"{kind}-type-changed", True, (*at, "type"), f"{kind} type {old.get('type')} became {new.get('type')}"
            )
        if old.get("format") != new.get("format"):
            self.add(
                f"{kind}-format-changed",
                True,
                (*at, "format"),
                f"{kind} format {old.get('format')} became {new.get('format')}",
            )
        if bool(old.get("nullable")) != bool(new.get("nullable")):
            now_nullable = bool(new.get("nullable"))
            self.add(f"{kind}-nullability-changed", now_nullable != writes, (*at, "nullable"),
                     f"{kind} value became {'nullable' if now_nullable else 'non-nullable'}")  # fmt: skip
        self._enum(old, new, at, kind, writes)
        if ("default" in old or "default" in new) and old.get("default") != new.get("default"):
            effect = "; the generated model still sends the old one" if writes else ""
            message = f"{kind} default {old.get('default')!r} became {new.get('default')!r}{effect}"
            self.add(f"{kind}-default-changed", writes, (*at, "default"), message)
        self._properties(old, new, at, kind=kind, writes=writes, depth=depth)
        if "items" in old or "items" in new:
            self._schema(old.get("items"), new.get("items"), (*at, "items"), kind, depth + 1)

    def _enum(self, old: dict[str, Any], new: dict[str, Any], at: tuple[object, ...], kind: str, writes: bool) -> None:
        if "enum" not in old and "enum" not in new:
            return
        before, after = set(map(repr, old.get("enum") or [])), set(map(repr, new.get("enum") or []))
        if "enum" in new and (before - after or "enum" not in old):
            self.add(
                f"{kind}-enum-narrowed",
                writes,
                (*at, "enum"),
                f"{kind} enum lost {sorted(before - after) or 'its openness'}",
            )
        if "enum" in old and (after - before or "enum" not in new):
            self.add(
                f"{kind}-enum-widened",
                not writes,
                (*at, "enum"),
                f"{kind} enum gained {sorted(after - before) or 'any value'}",
            )

    def _properties(
        self, old: dict[str, Any], new: dict[str, Any], at: tuple[object, ...], *, kind: str, writes: bool, depth: int
    ) -> None:
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_required, new_required = set(old.get("required") or []), set(new.get("required") or [])
        for name in sorted(set(old_props) - set(new_props)):
            effect = "; the SDK still sends it" if writes else "; the SDK reads it"
            self.add(
                f"{kind}-property-removed",
                True,
                (*at, "properties", name),
                f"{kind} property {name!r} was removed{effect}",
            )
        for name in sorted(set(new_props) - set(old_props)):
            required = name in new_required
            self.add(f"{kind}-property-added", writes and required, (*at, "properties", name),
                     f"{kind} property {name!r} was added" + (" as required" if required else ""))  # fmt: skip
        for name in sorted(set(old_props) & set(new_props)):
            if name in new_required and name not in old_required:
                self.add(
                    f"{kind}-property-became-required",
                    writes,
                    (*at, "required"),
                    f"{kind} property {name!r} became required",
                )
            if name in old_required and name not in new_required:
                self.add(
                    f"{kind}-property-became-optional",
                    not writes,
                    (*at, "required"),
                    f"{kind} property {name!r} became optional",
                )
            self._schema(old_props[name], new_props[name], (*at, "properties", name), kind, depth + 1)


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every client-relevant difference from `old` to `new`, breaking ones first."""
    changes = _Differ(old, new).run()
    unique = list(dict.fromkeys(changes))  # a shared component reached twice is reported once
    return sorted(unique, key=lambda c: (c.severity != BREAKING, c.pointer, c.rule))
