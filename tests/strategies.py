"""Hypothesis strategies: valid values and junk for every parameter of generate() and download()."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import strategies as st

_anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.builds(object),
    st.tuples(st.integers(), st.text(max_size=5)),
)

VALID: dict[str, st.SearchStrategy[Any]] = {
    "model": st.sampled_from(["p-video", "other-model"]),
    "prompt": st.one_of(st.none(), st.text(max_size=40)),
    "duration": st.one_of(st.none(), st.integers(1, 10)),
    "fps": st.one_of(st.none(), st.sampled_from([24, 48])),
    "resolution": st.one_of(st.none(), st.sampled_from(["720p", "1080p"])),
    "aspect_ratio": st.one_of(st.none(), st.sampled_from(["16:9", "1:1", "3:2"])),
    "image": st.one_of(st.none(), st.just("https://example.com/in.png")),
    "audio": st.one_of(st.none(), st.just("https://example.com/in.mp3")),
    "draft": st.one_of(st.none(), st.booleans()),
    "save_audio": st.one_of(st.none(), st.booleans()),
    "prompt_upsampling": st.one_of(st.none(), st.booleans()),
    "timeout": st.one_of(st.none(), st.floats(1, 100)),
    "extra_headers": st.one_of(st.none(), st.just({"X-Trace": "1"})),
}

_not_str = _anything.filter(lambda v: not isinstance(v, str))
_not_bool = _anything.filter(lambda v: v is not None and not isinstance(v, bool))
_bad_count = st.one_of(
    _anything.filter(lambda v: v is not None and (isinstance(v, bool) or not isinstance(v, int))),
    st.integers(max_value=0),
)
_bad_media = st.one_of(
    st.integers(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=2), st.builds(object),
    st.just(""), st.just(b""),
    st.sampled_from(["ftp://example.com/a.png", "file:///etc/passwd", "data:image/png;base64,AAAA", "javascript:x"]),
    st.text(min_size=1, max_size=20).map(lambda s: "/nonexistent-qubrid/" + s.replace("\x00", "")),
    st.tuples(st.text(max_size=5), st.integers()),
    st.tuples(st.integers(), st.binary(max_size=4), st.text(max_size=5)),
)  # fmt: skip

JUNK: dict[str, st.SearchStrategy[Any]] = {
    "model": st.one_of(_not_str, st.just(""), st.just("   ")),
    "prompt": _not_str.filter(lambda v: v is not None),
    "duration": _bad_count,
    "fps": _bad_count,
    "resolution": _not_str.filter(lambda v: v is not None),
    "aspect_ratio": _not_str.filter(lambda v: v is not None),
    "image": _bad_media,
    "audio": _bad_media,
    "draft": _not_bool,
    "save_audio": _not_bool,
    "prompt_upsampling": _not_bool,
    "timeout": st.one_of(st.floats(max_value=0), st.text(max_size=5), st.just(float("nan")), st.lists(st.none())),
    "extra_headers": st.one_of(
        st.integers(), st.text(max_size=5), st.dictionaries(st.text(max_size=5), st.integers(), min_size=1),
        st.just({"X": "a\r\nInjected: 1"}),
    ),
}  # fmt: skip


@st.composite
def junk_generate_kwargs(draw: st.DrawFn) -> dict[str, Any]:
    """Arguments for generate() of which at least one is junk (so the call must never be sent)."""
    poisoned = draw(st.lists(st.sampled_from(sorted(JUNK)), min_size=1, max_size=3, unique=True))
    return {name: draw(JUNK[name] if name in poisoned else VALID[name]) for name in VALID}


def junk_download_kwargs(tmp: Path) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments for download() of which at least one is junk."""
    dest_junk = st.one_of(_anything.filter(lambda v: not isinstance(v, str)), st.just(""),
                          st.just(str(tmp / "missing-dir" / "v.mp4")))  # fmt: skip
    return st.one_of(
        st.fixed_dictionaries({"dest": dest_junk}),
        st.fixed_dictionaries({"dest": st.just(str(tmp / "v.mp4")), "overwrite": _not_bool}),
        st.fixed_dictionaries({"dest": st.just(str(tmp / "v.mp4")),
                               "progress": _anything.filter(lambda v: v is not None and not callable(v))}),
    )  # fmt: skip


# Answers: odd JSON where a 200 holds `created` and `data`. Timestamps beyond what a datetime
# holds (years 1-9999), beyond 64 bits, negative, floats, and everything that is not a number;
# `data` often shaped as documented, so odd timestamps meet usable URLs.
_edge_times = st.sampled_from([10**20, -(10**14), 2**63, -(2**63), 253402300800, -62135596801, 10**400,
                               1e20, -1e14, float("inf"), float("nan"), 0, -1, 1710000000])  # fmt: skip
ODD_JSON: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), _edge_times),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
ODD_CREATED: st.SearchStrategy[Any] = st.one_of(_edge_times, ODD_JSON)
_odd_urls = st.one_of(
    st.just("https://cdn.example/v.mp4"),
    st.sampled_from(["http://[::1]/v.mp4", "https://", "http://[", "ftp://x/v.mp4", "https://cdn.example:99999/v.mp4",
                     "//cdn.example/v.mp4", "https://\u00e9.example/v.mp4", "https://cdn.example/v.mp4\x00"]),
    ODD_JSON,
)  # fmt: skip
_odd_items = st.one_of(
    st.fixed_dictionaries({"url": _odd_urls}, optional={"revised_prompt": ODD_JSON, "b64_json": ODD_JSON}), ODD_JSON
)
ODD_DATA: st.SearchStrategy[Any] = st.one_of(st.lists(_odd_items, min_size=1, max_size=3), ODD_JSON)
