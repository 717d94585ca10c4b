"""Every code sample in the docs runs as written, against a real emulator; every CLI line in them parses.

A ``python`` block is a complete script: it runs in a child process of its own, in a fresh folder
holding the files the samples name (``cat.jpg``, ``voice.wav``), with ``QUBRID_API_KEY`` and
``QUBRID_BASE_URL`` pointing at one emulator shared by the module. Marks in an HTML comment on the
line before a block (invisible on the site) change how it runs:

- ``<!-- not-run: REASON -->`` skips it (kept rare, each with its reason);
- ``<!-- emulator-fault: KIND[:N] [knob=value ...] -->`` queues that fault first, and the block
  must meet it (the fault is spent afterwards), so an error-handling sample takes the path it shows.

A block with a title (```` ```python title="app.py" ````) is a file: it is written under that name
for the later blocks of its page too, and a ``test_*.py`` file runs under pytest, with the SDK's
pytest plugin (its fixtures) loaded as it is for a user.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from qubrid_video_cli._commands import cli
from qubrid_video_emulator import Emulator

from tests.conftest import ROOT, plugin_load_args
from tests.media import jpeg, wav

DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)(?P<attrs>.*)$")
TITLE = re.compile(r'title="(?P<title>[^"]+)"')
MARK = re.compile(r"^\s*<!--\s*(?P<name>[\w-]+):\s*(?P<value>.*?)\s*-->\s*$")
MARKS = {"not-run", "emulator-fault"}


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page, with the marks written just above it."""

    page: Path
    line: int
    lang: str
    code: str
    title: str | None
    marks: dict[str, str]

    @property
    def name(self) -> str:
        """``guides/errors.md:42``: where the block starts."""
        return f"{self.page.relative_to(DOCS)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of `page`, in order (fences may be indented, inside a list)."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if opened is None:
            index += 1
            continue
        indent, start = opened["indent"], index
        end = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == "```")
        code = "\n".join(line.removeprefix(indent) for line in lines[start + 1 : end]) + "\n"
        title = TITLE.search(opened["attrs"])
        found.append(Block(page, start + 1, opened["lang"], code, title and title["title"], _marks(lines, start)))
        index = end + 1
    return found


def _marks(lines: list[str], fence: int) -> dict[str, str]:
    """The marks in the HTML comments directly above line `fence`."""
    marks: dict[str, str] = {}
    above = fence - 1
    while above >= 0 and (mark := MARK.match(lines[above])):
        marks[mark["name"]] = mark["value"]
        above -= 1
    return marks


PAGES = sorted(DOCS.rglob("*.md"))
ALL = [block for page in PAGES for block in blocks(page)]
PYTHON = [block for block in ALL if block.lang == "python"]
SHELL = [block for block in ALL if block.lang in ("sh", "bash", "console")]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One emulator for every sample: renders are cached, so samples asking the same cost one."""
    with Emulator() as running:
        yield running


def _folder(block: Block, where: Path) -> None:
    """Fill `where` with the inputs samples name, and the files earlier blocks of the page define."""
    (where / "cat.jpg").write_bytes(jpeg())
    (where / "voice.wav").write_bytes(wav(seconds=1.0))
    for earlier in blocks(block.page):
        if earlier.line < block.line and earlier.title is not None:
            (where / earlier.title).write_text(earlier.code, encoding="utf-8")


def _queue_fault(emulator: Emulator, mark: str) -> None:
    """Queue the fault an ``emulator-fault`` mark names: ``KIND[:N] [knob=value ...]``."""
    kind_count, *knobs = mark.split()
    kind, _, count = kind_count.partition(":")
    settings = {name: float(value) for name, value in (knob.split("=", 1) for knob in knobs)}
    emulator.inject(kind, int(count or 1), **settings)


@pytest.mark.parametrize("block", PYTHON, ids=[block.name for block in PYTHON])
def test_python_sample_runs(block: Block, emulator: Emulator, tmp_path: Path) -> None:
    """The block runs to completion, against the emulator, as a reader would run it."""
    if "not-run" in block.marks:
        pytest.skip(block.marks["not-run"])
    _folder(block, tmp_path)
    script = tmp_path / (block.title or "sample.py")
    script.write_text(block.code, encoding="utf-8")
    is_test = script.name.startswith("test_")
    run_tests = ["-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_load_args()]
    command = [*run_tests, script.name] if is_test else [script.name]
    command = ["-W", "default", *command]  # every warning shown once: a sample must raise none
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUBRID_")}
    env |= {"QUBRID_API_KEY": emulator.api_key, "QUBRID_BASE_URL": emulator.base_url}
    if "emulator-fault" in block.marks:
        _queue_fault(emulator, block.marks["emulator-fault"])
    try:
        done = subprocess.run(
            [sys.executable, *command], check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        pending = emulator.state.faults.pending()
    finally:
        emulator.clear_faults()  # a sample that drives the emulator itself leaves nothing for the next
    assert done.returncode == 0, f"{block.name} failed:\n{done.stdout}\n{done.stderr}"
    # Bar an unclosed client at exit (`client = Qubrid()` in a script is how scripts are written).
    warned = [line for line in done.stderr.splitlines() if "Warning:" in line and "ResourceWarning" not in line]
    assert not warned, f"{block.name} warned:\n{done.stderr}"
    assert not is_test or "warning" not in done.stdout, f"{block.name} warned:\n{done.stdout}"
    assert pending == 0, f"{block.name} never met the fault it is marked with"


@pytest.mark.parametrize("page", [p for p in PAGES if any(b.page == p for b in PYTHON)], ids=lambda p: p.name)
def test_python_samples_pass_mypy_strict(page: Path, tmp_path: Path) -> None:
    """A reader who copies a page's samples into a strictly typed project gets no type errors."""
    files: list[str] = []
    for block in (b for b in PYTHON if b.page == page):
        name = block.title or f"sample_{block.line}.py"
        (tmp_path / name).write_text(block.code, encoding="utf-8")
        files.append(name)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file=", *files],
        check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"{page.name}: samples fail mypy --strict:\n{done.stdout}{done.stderr}"


def test_marks_are_known_and_skips_rare() -> None:
    """Every mark is one the runner knows; every skipped sample says why, and few are skipped."""
    for block in ALL:
        assert set(block.marks) <= MARKS, f"{block.name}: unknown mark in {block.marks}"
        assert block.marks.get("not-run", "reason") != "", f"{block.name}: not-run needs a reason"
    skipped = [block.name for block in PYTHON if "not-run" in block.marks]
    assert len(skipped) <= 3, f"too many samples are not run: {skipped}"


def test_every_guide_has_samples() -> None:
    """The extraction finds the samples (an unreadable fence would otherwise pass every test vacuously)."""
    guides = sorted((DOCS / "guides").glob("*.md"))
    assert guides
    for page in guides:
        assert any(block.page == page for block in ALL), f"{page.name} has no code block"
    assert len(PYTHON) >= 25


def _cli_lines(block: Block) -> list[list[str]]:
    """The ``qubrid-video`` commands of a shell block, as argv after the program name."""
    commands = []
    for line in block.code.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(itertools.takewhile(lambda word: word.strip("();<>|&"), lexer))  # up to `&`, `|`...
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            words.pop(0)  # VAR=value before the command
        if words[:1] == ["qubrid-video"]:
            commands.append(words[1:])
    return commands


CLI_LINES = [(block, argv) for block in SHELL for argv in _cli_lines(block)]


@pytest.mark.parametrize(
    ("block", "argv"), CLI_LINES, ids=[f"{block.name}:{' '.join(argv)[:40]}" for block, argv in CLI_LINES]
)
def test_cli_line_parses(block: Block, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command and its options exist and their values parse (nothing is run)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jobs.jsonl").write_text('{"prompt": "A fox in the snow"}\n')
    (tmp_path / "cat.jpg").write_bytes(jpeg())
    try:
        if argv and not argv[0].startswith("-"):
            command = cli.commands.get(argv[0])
            assert command is not None, f"{block.name}: no command {argv[0]}"
            command.make_context(argv[0], argv[1:])
        else:
            cli.make_context("qubrid-video", argv)  # the group's own options: --version, --help
    except click.exceptions.Exit:
        pass  # --help, --version
    except click.UsageError as exc:
        pytest.fail(f"{block.name}: qubrid-video {shlex.join(argv)}: {exc.format_message()}")
