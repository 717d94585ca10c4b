"""A video in a notebook: IPython's display protocol, with the server's text escaped and only http(s) linked."""

from __future__ import annotations

import datetime as dt
import pickle
from html.parser import HTMLParser

import pytest
import qubrid_video as qv
from qubrid_video._errors import _one_line

from ..hostile import hostile

VIDEO_TYPES = [qv.Video, qv.AsyncVideo]
CREATED = dt.datetime(2024, 3, 9, 16, 0, tzinfo=dt.UTC)


class _Page(HTMLParser):
    """Every element of a fragment (its tag and attributes, unescaped as a browser reads them) and its text."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data

    def urls(self) -> list[str | None]:
        """Every src and href, whatever the element."""
        return [value for _, attrs in self.elements for name, value in attrs.items() if name in ("src", "href")]

    def tags(self) -> set[str]:
        return {tag for tag, _ in self.elements}


@pytest.mark.parametrize("video_type", VIDEO_TYPES)
def test_a_video_shows_as_a_player_with_its_request_id_and_a_link(video_type: type[qv.Video]) -> None:
    """The HTML holds a <video controls> on the URL, a link to it, the request id and the creation time."""
    url = "https://cdn.example/generated/v.mp4?sig=a&exp=1"
    page = _Page(video_type(url=url, created=CREATED, request_id="req-42")._repr_html_())
    players = [attrs for tag, attrs in page.elements if tag == "video"]
    assert len(players) == 1
    assert players[0]["src"] == url
    assert "controls" in players[0]
    links = [attrs for tag, attrs in page.elements if tag == "a"]
    assert [link["href"] for link in links] == [url]
    assert links[0]["rel"] == "noopener noreferrer"
    assert "req-42" in page.text
    assert "2024-03-09T16:00:00+00:00" in page.text
    assert page.tags() <= {"div", "video", "a", "code"}


@pytest.mark.parametrize("video_type", VIDEO_TYPES)
def test_the_mimebundle_follows_ipythons_protocol(video_type: type[qv.Video]) -> None:
    """_repr_mimebundle_ gives text/html and the repr as text/plain, and honours include and exclude."""
    video = video_type(url="https://cdn.example/v.mp4", created=None, request_id=None)
    bundle = video._repr_mimebundle_()
    assert bundle == {"text/html": video._repr_html_(), "text/plain": repr(video)}
    assert "no request id" in _Page(bundle["text/html"]).text
    assert video._repr_mimebundle_(include=["text/plain"]) == {"text/plain": repr(video)}
    assert video._repr_mimebundle_(exclude={"text/plain"}) == {"text/html": video._repr_html_()}


HOSTILE_IDS = ['"><script>alert(1)</script>', "' onmouseover='alert(2)", "<img src=x onerror=alert(3)>&amp;"]


@pytest.mark.parametrize("request_id", HOSTILE_IDS)
@pytest.mark.parametrize("video_type", VIDEO_TYPES)
def test_hostile_text_from_the_server_is_only_text(video_type: type[qv.Video], request_id: str) -> None:
    """Quotes and markup in the URL or the request id never leave their attribute or become elements."""
    url = "https://cdn.example/v.mp4?x=\"><script>alert(0)</script>&y='<b>"
    html = video_type(url=url, created=None, request_id=request_id)._repr_html_()
    page = _Page(html)
    assert page.tags() <= {"div", "video", "a", "code"}
    assert page.urls() == [url, url]
    assert request_id in page.text  # shown as the server sent it, as text
    assert "<script" not in html
    for tag, attrs in page.elements:
        assert set(attrs) <= {"class", "controls", "preload", "src", "style", "href", "target", "rel"}, (tag, attrs)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "\x01javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/v.mp4",
        "http:/no-host",
        "https://cdn.example/v.mp4\nX",
        "http://[::1/v.mp4",
        "file:///etc/passwd",
    ],
)
@pytest.mark.parametrize("video_type", VIDEO_TYPES)
def test_a_url_that_is_not_http_is_shown_as_text_only(video_type: type[qv.Video], url: str) -> None:
    """Any other scheme, or a URL hiding its scheme behind whitespace or controls: no player, no link, no src."""
    html = video_type(url=url, created=None, request_id="r")._repr_html_()
    page = _Page(html)
    assert page.tags() <= {"div", "code"}
    assert page.urls() == []
    assert "<script" not in html
    assert _one_line(url, 200) in page.text  # as text, whitespace collapsed, controls escaped
    assert "(not an http(s) URL, so not linked)" in page.text


@pytest.mark.parametrize("video_type", VIDEO_TYPES)
def test_showing_a_video_fetches_nothing_and_it_still_pickles(video_type: type[qv.Video]) -> None:
    """Rendering makes no request (the server sees none); the video pickles as before, its display too."""
    with hostile("video") as (base_url, recorder):
        video = video_type(url=f"{base_url}/files/v.mp4", created=CREATED, request_id="req-7")
        bundle = video._repr_mimebundle_()
        copy = pickle.loads(pickle.dumps(video))
        assert recorder.requests == []
    assert (type(copy), copy.url, copy.created, copy.request_id) == (video_type, video.url, CREATED, "req-7")
    assert copy == video
    assert copy._repr_mimebundle_() == bundle


@pytest.mark.parametrize("video_type", VIDEO_TYPES)
def test_huge_fields_from_the_server_make_a_small_page(video_type: type[qv.Video]) -> None:
    """A 10 MB URL and a 10 MB request id: the HTML stays a few hundred characters, the URL is shown
    shortened and not linked, the request id shortened."""
    url, request_id = "https://cdn.example/" + "a" * 10_000_000, "r" * 10_000_000
    html = video_type(url=url, created=None, request_id=request_id)._repr_html_()
    page = _Page(html)
    assert len(html) < 1000
    assert page.urls() == []
    assert page.tags() <= {"div", "code"}
    assert "https://cdn.example/aaa" in page.text
    assert "…" in page.text
    assert "(too long, so not linked)" in page.text


@pytest.mark.parametrize("video_type", VIDEO_TYPES)
def test_a_long_url_keeps_its_whole_link_and_shows_shortened(video_type: type[qv.Video]) -> None:
    """A URL of 8 KiB is still the player's src and the link's href, whole; its text is shortened."""
    url = "https://cdn.example/v.mp4?sig=" + "s" * (8 * 1024 - 30)
    assert len(url) == 8 * 1024
    page = _Page(video_type(url=url, created=None, request_id="r")._repr_html_())
    assert page.urls() == [url, url]
    assert url not in page.text
    assert url[:100] in page.text


@pytest.mark.parametrize("video_type", VIDEO_TYPES)
def test_bidi_characters_are_escaped_in_the_text_shown(video_type: type[qv.Video]) -> None:
    """A right-to-left override or isolate in the request id or the URL is shown escaped (``\\u202e``),
    so it cannot reorder what the page shows; the link itself is the URL as given."""
    url = "https://cdn.example/\u202e4pm.exe"
    page = _Page(video_type(url=url, created=None, request_id="req-\u2067x\u2069")._repr_html_())
    assert not {"\u202e", "\u2067", "\u2069"} & set(page.text)
    assert r"https://cdn.example/\u202e4pm.exe" in page.text
    assert r"req-\u2067x\u2069" in page.text
    assert page.urls() == [url, url]
