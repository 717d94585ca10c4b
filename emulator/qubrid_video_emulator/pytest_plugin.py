"""pytest fixtures to test code that calls the Qubrid Video API: the emulator, and clients bound to it.

pytest loads this plugin by itself wherever ``qubrid-video`` is installed (the package's ``pytest11``
entry point, named ``qubrid_video``): nothing to import or configure. Its fixtures need the
``emulator`` extra (``pip install 'qubrid-video[emulator]'``); without it pytest runs as before,
and only a test asking for a fixture fails, saying what to install. ``-p no:qubrid_video`` turns
the plugin off.

Fixtures:

- ``qubrid_emulator``: a running :class:`Emulator`, fresh for each test (empty journal, no
  faults, credits and keys as configured). One server serves the whole session, reset between
  tests (:meth:`Emulator.reset`), and it renders fast (``EmulatorConfig(render="fast")``). While
  the test runs, ``QUBRID_API_KEY`` and ``QUBRID_BASE_URL`` point at it, so code that makes its
  own ``Qubrid()`` reaches it too.
- ``qubrid_client``: a :class:`Qubrid` bound to it, closed after the test.
- ``async_qubrid_client``: an :class:`AsyncQubrid` bound to it, closed after the test.
  An async fixture: the test runs under anyio's pytest plugin (``@pytest.mark.anyio``; anyio
  comes with httpx) or pytest-asyncio (``asyncio_mode = "auto"``).

The marker ``@pytest.mark.qubrid_emulator(...)`` sets up one test's emulator (on a test, a class or
a module; the closest wins, keyword by keyword):

- ``credits``: credits of the client's key (None: unlimited). Spent: 402, ``InsufficientCreditsError``.
- ``models``: models the client's key may use (others: 403).
- ``rate_limit``: requests per minute allowed to the client's key (over it: 429).
- ``keys``: more keys, ``{"sk-other": KeyPolicy(credits=0)}``.
- ``latency``: seconds each generation takes.
- ``faults``: faults for the first requests, in order: kinds (``"502"``, ``FaultKind.DROP_MID``)
  or :class:`Fault` objects with their knobs.
- ``render``: ``"full"`` to draw real pictures and captions instead (a second or two a video).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import pytest

from ._config import EmulatorConfig, KeyPolicy
from ._faults import Fault, FaultKind

if TYPE_CHECKING:
    from qubrid_video import AsyncQubrid, Qubrid

    from ._server import Emulator

__all__ = ["async_qubrid_client", "qubrid_client", "qubrid_emulator"]

MARKER = "qubrid_emulator"
SETTINGS = ("credits", "models", "rate_limit", "keys", "latency", "faults", "render")
_INSTALL = "pip install 'qubrid-video[emulator]'"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so that ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(credits=None, models=None, rate_limit=None, keys=None, latency=0.0, faults=(), render='fast'): "
        "how this test's qubrid_emulator is set up (see qubrid_video_emulator.pytest_plugin)",
    )


def _fail(message: str) -> NoReturn:
    pytest.fail(message, pytrace=False)


def _settings(node: pytest.Item) -> dict[str, Any]:
    """The keywords of the test's ``qubrid_emulator`` markers: the module's, the class's, then its own."""
    settings: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers(MARKER))):
        unknown = sorted(set(marker.kwargs) - set(SETTINGS))
        if marker.args or unknown:
            given = repr(marker.args[0]) if marker.args else repr(unknown[0])
            _fail(f"@pytest.mark.{MARKER} takes keywords only, among {', '.join(SETTINGS)}; got {given}")
        settings.update(marker.kwargs)
    return settings


def _faults(values: Any) -> list[Fault]:
    if isinstance(values, str | Fault):
        values = [values]
    if not isinstance(values, list | tuple):
        _fail(f"@pytest.mark.{MARKER}(faults=...) takes a list of fault kinds or Fault objects, not {values!r}")
    faults, problem = [], None
    for value in values:
        try:
            faults.append(value if isinstance(value, Fault) else Fault(value))
        except (TypeError, ValueError) as exc:
            problem = f"{exc} (known kinds: {', '.join(kind.value for kind in FaultKind)})"
            break
    if problem is not None:  # failed outside the handler: one line, without the error behind it
        _fail(f"@pytest.mark.{MARKER}(faults=...) takes fault kinds or Fault objects: {problem}")
    return faults


def _config(base: EmulatorConfig, settings: Mapping[str, Any]) -> EmulatorConfig:
    """The session's settings changed as the marker says: the clients' key first, then the others."""
    extra = settings.get("keys") or {}
    if not isinstance(extra, Mapping) or not all(isinstance(policy, KeyPolicy) for policy in extra.values()):
        _fail(f"@pytest.mark.{MARKER}(keys=...) takes a dict of API keys to KeyPolicy objects, not {extra!r}")
    own = next(iter(base.keys))
    if own in extra:
        # Silently replacing the clients' key would drop credits=, models= and rate_limit=.
        _fail(
            f"@pytest.mark.{MARKER}(keys=...) names {own!r}, the clients' own key: "
            "set its policy with credits=, models= and rate_limit= instead"
        )
    latency = settings.get("latency", base.latency)
    if isinstance(latency, bool) or not isinstance(latency, int | float) or not 0 <= latency < math.inf:
        _fail(f"@pytest.mark.{MARKER}(latency=...) takes a finite number of seconds, 0 or more, not {latency!r}")
    models = settings.get("models")
    # One model named alone is a list of one, not a set of characters.
    models = [models] if isinstance(models, str) else models
    try:
        policy = KeyPolicy(credits=settings.get("credits"), models=models, rate_limit=settings.get("rate_limit"))
        keys = {own: policy, **extra}
        config = attrs.evolve(base, keys=keys, latency=latency, render=settings.get("render", base.render))
    except (TypeError, ValueError) as exc:
        problem = str(exc)
    else:
        return config
    _fail(f"@pytest.mark.{MARKER}: {problem}")


def _emulator_class() -> type[Emulator]:
    try:
        from qubrid_video_emulator import Emulator  # noqa: PLC0415 - the extra may be missing
    except ImportError as exc:
        missing = exc.name or "a dependency of the emulator extra"
    else:
        return Emulator
    # Outside the handler: the report is this one line, not the ImportError's chain.
    _fail(f"the qubrid_emulator fixture needs {missing}, which is not installed: {_INSTALL}")


def _session_config() -> EmulatorConfig:
    """What every test starts from, before its marker: the defaults, rendering fast."""
    return EmulatorConfig(render="fast")


@pytest.fixture(scope="session")
def _qubrid_emulator_server() -> Iterator[Emulator]:
    """The one emulator the session's tests share, started on first use."""
    with _emulator_class()(_session_config()) as emulator:
        yield emulator


@pytest.fixture
def qubrid_emulator(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, _qubrid_emulator_server: Emulator
) -> Emulator:
    """A running emulator, as new for this test, set up as its ``qubrid_emulator`` marker says.

    ``QUBRID_API_KEY`` and ``QUBRID_BASE_URL`` point at it while the test runs.
    """
    emulator = _qubrid_emulator_server
    settings = _settings(request.node)
    config = _config(_session_config(), settings)
    faults = _faults(settings.get("faults", ()))
    emulator.reset(config)
    for fault in faults:
        emulator.inject(fault.kind, delay=fault.delay, retry_after=fault.retry_after, cut_at=fault.cut_at)
    monkeypatch.setenv("QUBRID_API_KEY", emulator.api_key)
    monkeypatch.setenv("QUBRID_BASE_URL", emulator.base_url)
    return emulator


@pytest.fixture
def qubrid_client(qubrid_emulator: Emulator) -> Iterator[Qubrid]:
    """A ``Qubrid`` client bound to ``qubrid_emulator``, closed after the test."""
    from qubrid_video import Qubrid  # noqa: PLC0415 - loaded only by the tests that use it

    with Qubrid(api_key=qubrid_emulator.api_key, base_url=qubrid_emulator.base_url) as client:
        yield client


@pytest.fixture
async def async_qubrid_client(qubrid_emulator: Emulator) -> AsyncIterator[AsyncQubrid]:
    """An ``AsyncQubrid`` client bound to ``qubrid_emulator``, closed after the test (on the test's event loop)."""
    import asyncio  # noqa: PLC0415 - as qubrid_video does: asyncio costs sync users an import

    from qubrid_video import AsyncQubrid  # noqa: PLC0415

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _fail("async_qubrid_client runs on asyncio: with anyio, add an anyio_backend fixture returning 'asyncio'")
    async with AsyncQubrid(api_key=qubrid_emulator.api_key, base_url=qubrid_emulator.base_url) as client:
        yield client
