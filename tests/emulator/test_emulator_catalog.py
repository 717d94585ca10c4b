"""The model catalog: p-video as published, values checked against it, inputs shaping the video, prices."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from qubrid_video_emulator import Catalog, Emulator, EmulatorConfig, KeyPolicy, ModelSpec
from qubrid_video_emulator._catalog import BUILTIN_PATH

from ..media import jpeg, png, probe, wav
from .posting import post_generation

LOOSE = {"models": {"p-video": {"extends": "p-video", "fps": {"values": [24, 30, 48]}, "duration": {"max": 20}}}}


def _post(emulator: Emulator, fields: dict[str, Any], files: dict[str, Any] | None = None) -> httpx.Response:
    return post_generation(emulator, fields, files, timeout=120)


def _video(emulator: Emulator, fields: dict[str, Any], files: dict[str, Any] | None = None) -> dict[str, Any]:
    response = _post(emulator, fields, files)
    assert response.status_code == 200, response.text
    return probe(httpx.get(response.json()["data"][0]["url"], timeout=60).content)


def _audio(container: str, codec: str, seconds: float = 1.0) -> bytes:
    """A short silence in another container than WAV, encoded by FFmpeg."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=8000, layout="mono")
        frame = av.AudioFrame(format="s16", layout="mono", samples=int(8000 * seconds))
        frame.planes[0].update(bytes(frame.planes[0].buffer_size))
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


# p-video as published: the behaviours the issue lists.


def test_an_image_sets_the_shape_whatever_aspect_ratio_says(emulator: Emulator) -> None:
    """A 4:3 image asked for 16:9 at 720p gives 960x720: the image's shape, the resolution's short side."""
    image = ("four-three.png", png(size=(400, 300)), "image/png")
    fields = {"model": "p-video", "aspect_ratio": "16:9", "resolution": "720p", "duration": 1, "draft": True}
    video = _video(emulator, fields, {"image_file": image})
    assert (video["width"], video["height"]) == (960, 720)


def test_audio_sets_the_duration_whatever_duration_says(emulator: Emulator) -> None:
    """3 s of audio asked for 5 s gives a 3 s video (72 frames at 24 fps), audio included."""
    fields = {"model": "p-video", "duration": 5, "aspect_ratio": "1:1", "draft": True}
    video = _video(emulator, fields, {"audio_file": ("three.wav", wav(3.0, rate=8000), "audio/wav")})
    assert video["frames"] == 72
    assert video["duration"] == pytest.approx(3, abs=0.1)
    assert video["audio"] == 1


def test_1080p_at_48_fps(emulator: Emulator) -> None:
    """1080p 16:9 at 48 fps gives 1920x1080 at 48 fps."""
    video = _video(emulator, {"model": "p-video", "resolution": "1080p", "aspect_ratio": "16:9", "fps": 48,
                              "duration": 1, "draft": True})  # fmt: skip
    assert (video["width"], video["height"], video["fps"], video["frames"]) == (1920, 1080, 48.0, 48)


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("resolution", "480p", "720p, 1080p"),
        ("fps", 30, "one of 24, 48"),
        ("duration", 11, "between 1 and 10"),
        ("duration", 0, "between 1 and 10"),
        ("aspect_ratio", "21:9", "16:9, 9:16, 1:1, 4:3, 3:4, 3:2, 2:3"),
    ],
)
def test_values_outside_the_catalog_are_400s_naming_the_field(
    emulator: Emulator, field: str, value: Any, allowed: str
) -> None:
    """A value p-video does not take: 400 invalid_request, `param` the field, the message what is allowed."""
    response = _post(emulator, {"model": "p-video", field: value})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("invalid_request", field)
    assert allowed in error["message"]
    assert "p-video" in error["message"]
    assert emulator.generations == 0


def test_an_image_wider_than_any_aspect_ratio_is_held_to_the_widest(emulator: Emulator) -> None:
    """A 3:1 panorama at 720p gives 1280x720 (16:9, p-video's widest): the frame stays within the model's shapes."""
    video = _video(emulator, {"model": "p-video", "duration": 1, "draft": True},
                   {"image_file": ("wide.png", png(size=(900, 300)), "image/png")})  # fmt: skip
    assert (video["width"], video["height"]) == (1280, 720)


def test_an_image_is_seen_as_displayed(emulator: Emulator) -> None:
    """A 4:3 JPEG whose EXIF says "rotate 90 degrees" is a portrait picture: 720x960."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (40, 40, 200)).save(buffer, "JPEG", exif=exif)
    video = _video(emulator, {"model": "p-video", "duration": 1, "draft": True},
                   {"image_file": ("turned.jpg", buffer.getvalue(), "image/jpeg")})  # fmt: skip
    assert (video["width"], video["height"]) == (720, 960)


def test_audio_longer_than_the_maximum_is_capped(emulator: Emulator) -> None:
    """12 s of audio gives a 10 s video, p-video's longest."""
    video = _video(emulator, {"model": "p-video", "aspect_ratio": "1:1", "draft": True, "save_audio": False},
                   {"audio_file": ("long.wav", wav(12.0, rate=4000), "audio/wav")})  # fmt: skip
    assert video["frames"] == 240


# Input types: judged by the bytes, or by an unfetched URL's extension.


def test_types_are_read_from_the_bytes_not_the_name(emulator: Emulator) -> None:
    """A JPEG called .png and FLAC audio sent as application/octet-stream are taken: they are what p-video takes."""
    files = {"image_file": ("actually.png", jpeg(), "image/png"),
             "audio_file": ("tone.bin", _audio("flac", "flac"), "application/octet-stream")}  # fmt: skip
    assert _post(emulator, {"model": "p-video", "duration": 1, "draft": True}, files).status_code == 200


def test_image_types_outside_the_catalog_are_400s(emulator: Emulator) -> None:
    """A GIF, even named .png, is a 400 naming image_file and listing the types p-video takes."""
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20)).save(buffer, "GIF")
    response = _post(emulator, {"model": "p-video"}, {"image_file": ("cat.png", buffer.getvalue(), "image/png")})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "image_file"
    assert "GIF" in error["message"]
    assert "jpeg, jpg, png, webp" in error["message"]


_EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n%%EndComments\nnewpath 0 0 moveto showpage\n%%EOF\n"


def _broken_tiff() -> bytes:
    """A TIFF whose header is sound and whose pixels are not: decoding it fails, naming it does not."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 10, 10)).save(buffer, "TIFF", compression="tiff_deflate")
    data = bytearray(buffer.getvalue())
    data[8:40] = b"\xff" * 32  # the deflated strip, written right after the 8-byte header
    return bytes(data)


@pytest.mark.parametrize(("data", "kind"), [(_EPS, "EPS"), (_broken_tiff(), "TIFF")], ids=["eps", "tiff"])
def test_a_refused_image_type_is_named_without_being_decoded(emulator: Emulator, data: bytes, kind: str) -> None:
    """Only the catalog's types reach a decoder: an EPS (Ghostscript's) or a broken TIFF is named, not decoded."""
    response = _post(emulator, {"model": "p-video"}, {"image_file": ("x.png", data, "image/png")})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "image_file"
    assert (
        error["message"] == f"Invalid value for 'image_file': a {kind} picture; p-video accepts jpeg, jpg, png, webp."
    )


def test_audio_types_outside_the_catalog_are_400s(emulator: Emulator) -> None:
    """Sun AU audio, sent as audio/wav, is a 400 naming audio_file and listing flac, mp3, wav."""
    response = _post(emulator, {"model": "p-video"}, {"audio_file": ("a.wav", _audio("au", "pcm_s16be"), "audio/wav")})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "audio_file"
    assert "flac, mp3, wav" in error["message"]


@pytest.mark.parametrize(
    ("field", "url", "status"),
    [
        ("image", "https://example.com/cat.gif", 400),
        ("audio", "https://example.com/a.ogg?x=1", 400),
        ("image", "https://example.com/cat.webp", 200),
        ("image", "https://example.com/render?id=3", 200),
        ("audio", "https://example.com/a.flac", 200),
    ],
)
def test_unfetched_urls_are_judged_by_their_extension(emulator: Emulator, field: str, url: str, status: int) -> None:
    """Offline, a remote URL whose path names a type p-video refuses is a 400; no extension, or a taken one, passes."""
    response = _post(emulator, {"model": "p-video", "duration": 1, "aspect_ratio": "1:1", "draft": True, field: url})
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"]["param"] == field


# Credits: the model's price, in credits of US$0.001.


@pytest.mark.parametrize(
    ("fields", "credits"),
    [
        ({"resolution": "720p", "duration": 5}, 100),
        ({"resolution": "720p", "duration": 2, "draft": True}, 10),
        ({"resolution": "1080p", "duration": 3}, 120),
        ({"resolution": "1080p", "duration": 3, "draft": True}, 30),
    ],
)
def test_credits_follow_the_price_list(fields: dict[str, Any], credits: int) -> None:
    """A generation costs its price per second (by resolution and draft) times its seconds, at US$0.001 a credit."""
    config = EmulatorConfig(keys={"sk-exact": KeyPolicy(credits=credits)})
    with Emulator(config) as emulator:
        body = {"model": "p-video", "aspect_ratio": "1:1", **fields}
        assert _post(emulator, body).status_code == 200
        assert emulator.state.credits("sk-exact") == 0
        assert _post(emulator, body).status_code == 402
        assert emulator.generations == 1


def test_audio_length_is_what_is_charged() -> None:
    """3 s of audio asked for 10 s at 720p costs 3 s: 60 credits."""
    with Emulator(EmulatorConfig(keys={"sk-a": KeyPolicy(credits=1000)})) as emulator:
        fields = {"model": "p-video", "duration": 10, "aspect_ratio": "1:1", "save_audio": False}
        assert _post(emulator, fields, {"audio_file": ("a.wav", wav(3.0, rate=4000), "audio/wav")}).status_code == 200
        assert emulator.state.credits("sk-a") == 940


# The catalog itself, and catalogs of one's own.


def test_the_built_in_catalog_is_p_video_as_published() -> None:
    """The defaults the issue lists, from models.yaml."""
    spec = Catalog.default()["p-video"]
    assert (dict(spec.resolutions), spec.default_resolution) == ({"720p": 720, "1080p": 1080}, "720p")
    assert (tuple(spec.fps), spec.default_fps) == ((24, 48), 24)
    assert (list(spec.durations), spec.default_duration) == (list(range(1, 11)), 5)
    assert list(spec.aspect_ratios) == ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"]
    assert spec.default_aspect_ratio == "16:9"
    assert spec.image_formats == {"jpg", "jpeg", "png", "webp"}
    assert spec.audio_formats == {"flac", "mp3", "wav"}
    assert spec.image_sets_aspect_ratio
    assert spec.audio_sets_duration
    assert [spec.credits(r, d, 1) for r in ("720p", "1080p") for d in (False, True)] == [20, 5, 40, 10]
    assert spec.rate_limit == 250


def test_every_built_in_value_names_its_sources() -> None:
    """Each field of each model names sources, and each source has a title and an http(s) URL."""
    document = yaml.safe_load(BUILTIN_PATH.read_text(encoding="utf-8"))
    sources = document["sources"]
    for source in sources.values():
        assert source["title"]
        assert source["url"].startswith("https://")
    used = set()
    for entry in document["models"].values():
        used |= set(entry["sources"])
        for field, value in entry.items():
            if isinstance(value, dict):
                assert value["sources"], field
                assert set(value["sources"]) <= set(sources), field
                used |= set(value["sources"])
    assert used == set(sources)


@pytest.mark.parametrize(
    "models",
    [
        ["p-video", "p-pro"],
        {"p-video", "p-pro"},
        {"models": {"p-video": {"extends": "p-video"}, "p-pro": {"extends": "p-video"}}},
    ],
    ids=["list", "set", "mapping"],
)
def test_emulator_config_takes_names_or_a_mapping(models: Any) -> None:
    """Names each behave as p-video; a mapping is read like the file."""
    catalog = EmulatorConfig(models=models).models
    assert set(catalog) == {"p-video", "p-pro"}
    assert catalog["p-pro"].resolutions == Catalog.default()["p-video"].resolutions
    assert isinstance(catalog["p-pro"], ModelSpec)


def test_emulator_config_reads_a_file_yaml_or_json(tmp_path: Path) -> None:
    """A path (str or Path) to a YAML or JSON catalog is read; its values then rule the emulator."""
    (tmp_path / "loose.json").write_text(json.dumps(LOOSE), encoding="utf-8")
    (tmp_path / "loose.yaml").write_text(yaml.safe_dump(LOOSE), encoding="utf-8")
    for path in (tmp_path / "loose.json", str(tmp_path / "loose.yaml")):
        spec = EmulatorConfig(models=path).models["p-video"]
        assert tuple(spec.fps) == (24, 30, 48)
        assert (spec.durations[0], spec.durations[-1], spec.default_duration) == (1, 20, 5)
    with Emulator(EmulatorConfig(models=tmp_path / "loose.yaml")) as emulator:
        video = _video(emulator, {"model": "p-video", "fps": 30, "duration": 1, "aspect_ratio": "1:1", "draft": True})
        assert video["fps"] == 30
        assert "between 1 and 20" in _post(emulator, {"model": "p-video", "duration": 21}).json()["error"]["message"]


def test_a_model_whose_image_does_not_set_the_shape(emulator: Emulator) -> None:
    """With image.sets_aspect_ratio false, aspect_ratio rules and the picture is cropped to it."""
    models = {"p-crop": {"extends": "p-video", "image": {"sets_aspect_ratio": False}}}
    with Emulator(EmulatorConfig(models=models)) as cropping:
        video = _video(cropping, {"model": "p-crop", "aspect_ratio": "9:16", "duration": 1, "draft": True},
                       {"image_file": ("wide.png", png(size=(400, 300)), "image/png")})  # fmt: skip
    assert (video["width"], video["height"]) == (720, 1280)


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ({"p-video": {"extends": "p-video", "fsp": 24}}, "models.p-video: unknown field 'fsp'"),
        ({"p-video": {"extends": "p-video", "fps": {"default": 30}}}, "models.p-video.fps.default: 30"),
        ({"p-video": {"extends": "p-video", "aspect_ratio": {"values": [969]}}}, "quote aspect ratios"),
        (
            {"x": {"extends": "p-video", "resolution": {"values": {"480p": 480}, "default": "480p"}}},
            "models.x.price.per_second: '720p' is not one of the resolutions (480p)",
        ),
        ({"x": {"extends": "p-video", "resolution": {"values": {"odd": 721}}}}, "must be even"),
        ({"x": {"extends": "p-nothing"}}, "'p-nothing' is not a built-in model"),
        ({"x": {"fps": {"values": [24], "default": 24}}}, "missing field 'resolution'"),
        ({"x": {"extends": "p-video", "duration": {"min": 5, "max": 2}}}, "min 5 is above max 2"),
        ({}, "names no model"),
        (
            {"x": {"extends": "p-video", "aspect_ratio": {"values": ["١٦:٩"], "default": "١٦:٩"}}},
            "models.x.aspect_ratio.values: '١٦:٩' is not W:H with two positive whole numbers (ASCII digits)",
        ),
        ({"x": {"extends": "p-video", "aspect_ratio": {"values": ["²:1"], "default": "²:1"}}}, "'²:1' is not W:H"),
        ({"": {"extends": "p-video"}}, "models: '' is not a model name"),
        ({" x": {"extends": "p-video"}}, "models: ' x' is not a model name"),
        ({"x\u202e": {"extends": "p-video"}}, "models: 'x\\u202e' is not a model name"),
        (
            {"x": {"extends": "p-video", "aspect_ratio": {"values": ["16:9", "100:1"], "default": "16:9"}}},
            "models.x.resolution.values.720p: a 720-pixel short side at aspect ratio 100:1 makes 72000x720 frames; "
            "frames are at most 16384 pixels long and 40,000,000 pixels",
        ),
        (
            {
                "x": {
                    "extends": "p-video",
                    "resolution": {"values": {"1080p": 4320}, "default": "1080p"},
                    "aspect_ratio": {"values": ["3:1"], "default": "3:1"},
                }
            },
            "models.x.resolution.values.1080p: a 4320-pixel short side at aspect ratio 3:1 makes 12960x4320 frames",
        ),
    ],
    ids=[
        "typo",
        "default",
        "base-60",
        "price",
        "odd",
        "extends",
        "missing",
        "range",
        "empty",
        "arabic-digits",
        "superscript",
        "empty-name",
        "spaced-name",
        "bidi-name",
        "too-long",
        "too-many-pixels",
    ],
)
def test_invalid_catalogs_are_refused_naming_the_field(models: dict[str, Any], message: str) -> None:
    """A catalog with a mistake is refused at configuration time, the message naming where it is."""
    with pytest.raises(ValueError, match=re.escape(message)):
        EmulatorConfig(models={"models": models} if models else models)


def test_a_bad_path_or_a_lone_name_is_refused(tmp_path: Path) -> None:
    """A string is a path: a missing file is an error that says how to name models instead."""
    with pytest.raises(ValueError, match="cannot read a model catalog from p-video"):
        EmulatorConfig(models="p-video")
    (tmp_path / "list.yaml").write_text("- p-video\n", encoding="utf-8")
    with pytest.raises(ValueError, match="a mapping with a 'models' key"):
        EmulatorConfig(models=tmp_path / "list.yaml")


def test_yaml_aliases_are_refused_before_anything_expands(tmp_path: Path) -> None:
    """Nine levels of nested aliases (10**9 strings from 561 bytes): a quick ValueError, with a short message."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    document = "sources:\n" + "".join(f"  {line}\n" for line in lines)
    document += "models:\n  m:\n    extends: p-video\n    resolution: {values: *a8}\n"
    (tmp_path / "bomb.yaml").write_text(document, encoding="utf-8")
    with pytest.raises(ValueError, match=r"aliases \(\*name\) are not allowed in a model catalog") as caught:
        Catalog.load(tmp_path / "bomb.yaml")
    assert len(str(caught.value)) < 1000


def test_error_messages_show_a_bounded_preview_of_the_value() -> None:
    """A huge or deep value in a catalog given as data is shown cut short, not whole."""
    deep: Any = ["lol"] * 10
    for _ in range(8):
        deep = [deep] * 10  # shared, so cheap to build and 10**9 strings to print
    with pytest.raises(ValueError, match=r"resolution.values: expected a mapping of label .*\.\.\.") as caught:
        Catalog.from_dict({"models": {"m": {"extends": "p-video", "resolution": {"values": deep}}}})
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("kind", ["fifo", "directory", "large"])
def test_only_a_regular_file_of_at_most_a_mebibyte_is_read(tmp_path: Path, kind: str) -> None:
    """A FIFO (which would block), a directory or a runaway file: a clear ValueError, at once."""
    path = tmp_path / "catalog.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n")
    message = {"fifo": "not a regular file", "directory": "not a regular file|Is a directory", "large": "larger than"}
    with pytest.raises(ValueError, match=f"cannot read a model catalog from {re.escape(str(path))}: "):
        Catalog.load(path)
    with pytest.raises(ValueError, match=message[kind]):
        Catalog.load(path)


def test_catalogs_pickle() -> None:
    """A catalog (and so a configuration) crosses process boundaries."""
    catalog = EmulatorConfig(models=LOOSE).models
    assert pickle.loads(pickle.dumps(catalog)) == catalog


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4),
    max_leaves=12,
)
_FIELDS = ["resolution", "fps", "duration", "aspect_ratio", "image", "audio", "price", "rate_limit", "extends"]


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(_FIELDS), junk=_JSON, whole=st.booleans())
def test_any_catalog_data_is_a_catalog_or_a_value_error(field: str, junk: Any, whole: bool) -> None:
    """Whatever a catalog holds, loading it gives a catalog or a ValueError, never another exception."""
    entry = junk if whole else {"extends": "p-video", field: junk}
    try:
        catalog = Catalog.from_dict({"models": {"m": entry}})
    except ValueError:
        return
    assert isinstance(catalog["m"], ModelSpec)
