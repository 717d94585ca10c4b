"""Shell completion through click's own protocol, as the printed scripts call it, and the scripts themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..processes import QUBRID_VIDEO

ASPECT_RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3"]


def _complete(shell: str, words: str, cword: int | str) -> list[str]:
    """What `qubrid-video` answers a shell asking to complete `words` (``COMP_WORDS``) at `cword`."""
    env = {**os.environ, "_QUBRID_VIDEO_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = subprocess.run([QUBRID_VIDEO], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]  # no suggestion: one empty line


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("qubrid-video generate fox --resolution", 4, ["plain,720p", "plain,1080p"]),
        ("qubrid-video generate fox --resolution 10", 4, ["plain,1080p"]),
        ("qubrid-video generate fox --aspect-ratio", 4, [f"plain,{ratio}" for ratio in ASPECT_RATIOS]),
        ("qubrid-video generate fox --aspect-ratio 3", 4, ["plain,3:4", "plain,3:2"]),
        ("qubrid-video generate fox --model", 4, ["plain,p-video"]),
        ("qubrid-video generate fox --model q", 4, []),
        ("qubrid-video generate fox --aspect", 3, ["plain,--aspect-ratio"]),
        ("qubrid-video comp", 1, ["plain,completion"]),
        ("qubrid-video completion", 2, ["plain,bash", "plain,zsh", "plain,fish"]),
    ],
    ids=["resolution", "resolution-prefix", "aspect-ratio", "aspect-prefix", "model", "model-unknown", "option",
         "command", "shells"],
)  # fmt: skip
def test_bash_completion_suggests_commands_options_and_values(words: str, cword: int, expected: list[str]) -> None:
    """`_QUBRID_VIDEO_COMPLETE=bash_complete` answers the documented values of --resolution, --aspect-ratio, --model."""
    assert _complete("bash", words, cword) == expected


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        # Bash splits the words at ":" (COMP_WORDBREAKS) and replaces only what follows the last one.
        ("qubrid-video generate fox --aspect-ratio 16 :", 5, ["plain,9"]),
        ("qubrid-video generate fox --aspect-ratio 3 : 4", 6, ["plain,4"]),
        ("qubrid-video generate fox --aspect-ratio 16 : --resolution", 7, ["plain,720p", "plain,1080p"]),
    ],
    ids=["after-colon", "after-colon-prefix", "value-before"],
)
def test_bash_completion_of_values_with_a_colon(words: str, cword: int, expected: list[str]) -> None:
    """A ratio is completed past its colon, and a ratio already typed does not confuse later options."""
    assert _complete("bash", words, cword) == expected


def test_zsh_and_fish_completion_answer_in_their_formats() -> None:
    """zsh gets type, value and help on separate lines; fish gets ``plain,VALUE``; colons stay as they are."""
    zsh = _complete("zsh", "qubrid-video generate fox --aspect-ratio 1", 4)
    assert zsh == ["plain", "16:9", "_", "plain", "1:1", "_"]
    fish = _complete("fish", "qubrid-video generate fox --aspect-ratio 1", "1")
    assert fish == ["plain,16:9", "plain,1:1"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_command_prints_the_shell_script(shell: str) -> None:
    """`qubrid-video completion SHELL` prints click's script for `qubrid-video`, calling back with the fixed variable."""
    result = subprocess.run([QUBRID_VIDEO, "completion", shell], capture_output=True, text=True, timeout=60,
                            check=True)  # fmt: skip
    assert f"_QUBRID_VIDEO_COMPLETE={shell}_complete" in result.stdout
    assert "_qubrid_video_completion" in result.stdout
    assert "qubrid-video" in result.stdout


def test_completion_command_refuses_an_unknown_shell() -> None:
    """An unknown shell is a usage error naming the three supported ones."""
    result = subprocess.run([QUBRID_VIDEO, "completion", "powershell"], capture_output=True, text=True, timeout=60,
                            check=False)  # fmt: skip
    assert result.returncode == 2
    assert "'bash', 'zsh', 'fish'" in result.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_bash_script_completes_a_ratio_in_bash_itself(tmp_path: Path) -> None:
    """Sourced into bash, the printed script fills COMPREPLY as bash needs it, past the colon too."""
    script = tmp_path / "complete.sh"
    script.write_text(subprocess.run([QUBRID_VIDEO, "completion", "bash"], capture_output=True, text=True,
                                     timeout=60, check=True).stdout)  # fmt: skip
    probe = (f'source "{script}"\n'
             "COMP_WORDS=(qubrid-video generate fox --aspect-ratio 16 :); COMP_CWORD=5\n"
             '_qubrid_video_completion qubrid-video; printf "%s\\n" "${COMPREPLY[@]}"; echo ---\n'
             "COMP_WORDS=(qubrid-video generate fox --resolution ''); COMP_CWORD=4; COMPREPLY=()\n"
             '_qubrid_video_completion qubrid-video; printf "%s\\n" "${COMPREPLY[@]}"\n')  # fmt: skip
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(["bash", "--norc", "--noprofile", "-c", probe], env=env, capture_output=True, text=True,
                            timeout=60, check=True)  # fmt: skip
    assert result.stdout.split() == ["9", "---", "720p", "1080p"]
