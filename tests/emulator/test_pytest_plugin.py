"""The pytest plugin as its users meet it: test modules of theirs, run by a pytest of their own.

The documented example module runs in a child process, loading the plugin through its entry
point as a user's pytest does (or with ``-p`` where the installed metadata predates it: see
``tests.conftest.plugin_load_args``). The others run in this process, which is quicker.
"""

from __future__ import annotations

import sys

import pytest

from ..conftest import PYTEST_PLUGIN, ROOT, plugin_load_args
from ..test_docs import blocks

pytest_plugins = ["pytester"]

TESTING_GUIDE = ROOT / "docs" / "guides" / "testing.md"
# What a user's project may lack: the emulator extra, and what only it brings.
EMULATOR_EXTRA = ("starlette", "uvicorn", "multipart", "python_multipart", "openapi_core", "av", "PIL", "yaml")


def _guide_files(*titles: str) -> dict[str, str]:
    """The files the testing guide shows, by title (``app.py``, ``test_app.py``)."""
    found = {block.title: block.code for block in blocks(TESTING_GUIDE) if block.title in titles}
    assert sorted(found) == sorted(titles), f"the testing guide lacks one of {titles}"
    return {title.removesuffix(".py"): code for title, code in found.items() if title}


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in this process, with the plugin, strict markers, and warnings as errors.

    But one: this process may have imported the plugin already (our own run loads it, and so does
    the reference test), and a pytest asked to load it again warns that it cannot rewrite the
    asserts of a module already imported.
    """
    return pytester.runpytest_inprocess(
        *plugin_load_args(), "-p", "no:cacheprovider", "--strict-markers",
        "-W", "error", "-W", "ignore::pytest.PytestAssertRewriteWarning", *args,
    )  # fmt: skip


def test_the_documented_example_module_passes_in_a_pytest_of_its_own(pytester: pytest.Pytester) -> None:
    """The guide's test_app.py (success, faults, spent credits, async, 20 videos of 1080p) passes in a child pytest."""
    pytester.makepyfile(**_guide_files("app.py", "test_app.py"))
    result = pytester.runpytest_subprocess(*plugin_load_args(), "-p", "no:cacheprovider", "--strict-markers",
                                           "-W", "error", "-v")  # fmt: skip
    result.assert_outcomes(passed=8, warnings=0)
    result.stdout.fnmatch_lines(["*test_makes_a_storyboard PASSED*", "*test_makes_clips_concurrently?asyncio? PASSED*"])


def test_each_test_meets_a_fresh_emulator(pytester: pytest.Pytester) -> None:
    """Whatever a test did (faults, keys, credits, journal, count), the next one starts clean; the env is restored."""
    pytester.makepyfile(
        """
        import os

        import httpx
        import pytest

        from qubrid_video_emulator import DEFAULT_API_KEY

        BODY = {"model": "p-video", "prompt": "A fox", "duration": 1}


        @pytest.mark.qubrid_emulator(credits=100)
        def test_dirties_everything(qubrid_emulator, qubrid_client):
            qubrid_client.videos.generate(**BODY).read()
            qubrid_emulator.add_key("sk-extra")
            qubrid_emulator.inject("502", count=5)
            qubrid_emulator.inject("drop_download")
            qubrid_emulator.set_fault_rate(1.0, ["500"])
            assert qubrid_emulator.state.credits(DEFAULT_API_KEY) < 100
            assert os.environ["QUBRID_BASE_URL"] == qubrid_emulator.base_url


        @pytest.mark.qubrid_emulator(credits=100)
        def test_starts_clean(qubrid_emulator, qubrid_client):
            assert qubrid_emulator.requests() == []
            assert qubrid_emulator.downloads() == []
            assert qubrid_emulator.generations == 0
            assert qubrid_emulator.state.faults.pending() == 0
            assert qubrid_emulator.state.credits(DEFAULT_API_KEY) == 100
            qubrid_client.videos.generate(**BODY).read()  # no fault left, random or queued
            extra = {"Authorization": "Bearer sk-extra"}
            assert httpx.post(qubrid_emulator.base_url + "/videos/generations", json=BODY, headers=extra).status_code == 401
            assert [r.outcome for r in qubrid_emulator.requests()] == ["generated", "error:invalid_api_key"]


        def test_without_the_fixture_the_environment_is_yours():
            assert os.environ["QUBRID_BASE_URL"] == "https://example.invalid/v1"
        """
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QUBRID_BASE_URL", "https://example.invalid/v1")
        result = _run(pytester)
    result.assert_outcomes(passed=3)


def test_the_marker_configures_the_test(pytester: pytest.Pytester) -> None:
    """credits, models, rate_limit, keys, latency, faults and render reach the emulator; the closest marker wins."""
    pytester.makepyfile(
        """
        import time

        import pytest

        from qubrid_video import (
            BackendUnavailableError, InsufficientCreditsError, PermissionDeniedError, Qubrid, RateLimitError,
        )
        from qubrid_video_emulator import Fault, KeyPolicy

        BODY = {"model": "p-video", "prompt": "A fox", "duration": 1}
        pytestmark = pytest.mark.qubrid_emulator(latency=0.25, credits=0)


        def test_the_module_marker_applies(qubrid_emulator, qubrid_client):
            assert (qubrid_emulator.config.latency, qubrid_emulator.config.render) == (0.25, "fast")
            with pytest.raises(InsufficientCreditsError):
                qubrid_client.videos.generate(**BODY)


        @pytest.mark.qubrid_emulator(credits=None)
        class TestClosestWins:
            def test_the_class_marker_overrides_one_keyword(self, qubrid_emulator, qubrid_client):
                started = time.monotonic()
                qubrid_client.videos.generate(**BODY)
                assert time.monotonic() - started >= 0.25  # the module's latency still holds

            @pytest.mark.qubrid_emulator(latency=0, render="full", models=["other"])
            def test_the_test_marker_overrides_the_class(self, qubrid_emulator, qubrid_client):
                assert (qubrid_emulator.config.latency, qubrid_emulator.config.render) == (0, "full")
                with pytest.raises(PermissionDeniedError):
                    qubrid_client.videos.generate(**BODY)


        @pytest.mark.qubrid_emulator(credits=None, latency=0, rate_limit=1)
        def test_rate_limit(qubrid_emulator):
            with Qubrid(max_retries=0) as client:  # the environment names the emulator
                client.videos.generate(**BODY)
                with pytest.raises(RateLimitError):
                    client.videos.generate(**BODY)


        @pytest.mark.qubrid_emulator(credits=None, latency=0, models="p-video", keys={"sk-broke": KeyPolicy(credits=0)})
        def test_keys(qubrid_emulator, qubrid_client):
            qubrid_client.videos.generate(**BODY)
            with Qubrid(api_key="sk-broke") as broke, pytest.raises(InsufficientCreditsError):
                broke.videos.generate(**BODY)


        @pytest.mark.qubrid_emulator(credits=None, latency=0, faults=["502", Fault("502"), "drop_download"])
        def test_faults_in_order(qubrid_emulator):
            with Qubrid(max_retries=1) as client:
                with pytest.raises(BackendUnavailableError):
                    client.videos.generate(**BODY)
                client.videos.generate(**BODY).read()
            assert [r.outcome for r in qubrid_emulator.requests()] == ["fault:502", "fault:502", "generated"]
            assert [d.fault for d in qubrid_emulator.downloads()][:1] == ["drop_download"]
        """
    )
    _run(pytester).assert_outcomes(passed=6)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("credit=1", "keywords only, among credits, models, rate_limit, keys, latency, faults, render; got 'credit'"),
        ("5", "takes keywords only, among credits, * got 5"),
        (
            "faults=['404']",
            "(faults=...) takes fault kinds or Fault objects: '404' is not a valid FaultKind (known kinds: 500, 502",
        ),
        ("keys={'sk-x': 3}", "(keys=...) takes a dict of API keys to KeyPolicy objects, not {'sk-x': 3}"),
        ("render='slow'", "render must be 'fast' or 'full', not 'slow'"),
        ("latency='soon'", "(latency=...) takes a finite number of seconds, 0 or more, not 'soon'"),
        ("latency=float('inf')", "(latency=...) takes a finite number of seconds, 0 or more, not inf"),
        ("credits='500'", ": credits must be a whole number of credits, 0 or more, or None, not '500'"),
        ("credits=-100", ": credits must be a whole number of credits, 0 or more, or None, not -100"),
        ("rate_limit=0", ": rate_limit must be a whole number of requests per minute, 1 or more, or None, not 0"),
        ("rate_limit='10'", ": rate_limit must be a whole number of requests per minute, * not '10'"),
        ("faults=None", "(faults=...) takes a list of fault kinds or Fault objects, not None"),
        ("faults=5", "(faults=...) takes a list of fault kinds or Fault objects, not 5"),
        (
            "keys={'sk-qubrid-emulator': __import__('qubrid_video_emulator').KeyPolicy()}",
            "(keys=...) names 'sk-qubrid-emulator', the clients' own key: set its policy with credits=, models=*",
        ),
    ],
)
def test_a_misused_marker_fails_the_test_saying_why(pytester: pytest.Pytester, marker: str, message: str) -> None:
    """A wrong keyword or value errors the test at setup with one clear line; the next test runs as usual."""
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.qubrid_emulator({marker})
        def test_misconfigured(qubrid_emulator):
            pass

        def test_next(qubrid_emulator):
            assert qubrid_emulator.requests() == []
        """
    )
    result = _run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.qubrid_emulator*{message}*"])
    assert "During handling" not in result.stdout.str()


def test_the_fixtures_are_listed_with_their_documentation(pytester: pytest.Pytester) -> None:
    """``pytest --fixtures`` shows the three fixtures and what they are; ``--markers`` shows the marker."""
    result = _run(pytester, "--fixtures")
    result.stdout.fnmatch_lines(
        ["qubrid_emulator -- *", "*A running emulator, as new for this test*", "qubrid_client -- *",
         "*A ``Qubrid`` client bound to ``qubrid_emulator``*", "async_qubrid_client -- *"]
    )  # fmt: skip
    _run(pytester, "--markers").stdout.fnmatch_lines(["@pytest.mark.qubrid_emulator(credits=None, *"])


def test_without_the_emulator_extra_pytest_runs_and_the_fixtures_say_what_to_install(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the extra's packages the plugin still loads: other tests pass, the fixtures' tests error clearly.

    Other plugins of this environment (schemathesis, hypothesis) need those packages themselves, so
    only ours is loaded.
    """
    pytester.makepyfile(
        """
        def test_unrelated():
            assert True

        def test_uses_the_emulator(qubrid_emulator):
            pass

        def test_uses_a_client(qubrid_client):
            pass
        """
    )
    blocked = "".join(f"sys.modules[{name!r}] = None\n" for name in EMULATOR_EXTRA)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = ["-p", PYTEST_PLUGIN, "-p", "no:cacheprovider", "-W", "error"]
    code = f"import sys\n{blocked}import pytest\nsys.exit(pytest.main({args!r}))\n"
    result = pytester.run(sys.executable, "-c", code)
    result.assert_outcomes(passed=1, errors=2)
    needs = "the qubrid_emulator fixture needs uvicorn, which is not installed: pip install 'qubrid-video[emulator]'"
    # Once in each error's report, a line of its own; the short summary may repeat it (in full when CI is set).
    reported = [line for line in result.stdout.lines if line.strip() == needs]
    assert len(reported) == 2, result.stdout.str()
    assert "halted" not in result.stdout.str()  # one line each, without the ImportError behind it
