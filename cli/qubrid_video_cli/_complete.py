"""Shell completion: ``qubrid-video completion bash|zsh|fish`` prints the script; options suggest values.

Completion is click's own protocol: the script calls ``qubrid-video`` back with
``_QUBRID_VIDEO_COMPLETE=bash_complete`` (``zsh_complete``, ``fish_complete``) and the words typed
so far in ``COMP_WORDS``/``COMP_CWORD``. ``--resolution``, ``--aspect-ratio`` and ``--model`` suggest
the documented values, but they stay free text: a value the CLI does not know is still sent, and
the API decides (a new resolution needs no new CLI).
"""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
    add_completion_class,
)

COMPLETE_VAR = "_QUBRID_VIDEO_COMPLETE"
PROG_NAME = "qubrid-video"
# How to install each shell's script, shown under `qubrid-video completion --help` ("\b": as laid out).
INSTALL = """\b
Install it once:
  bash: eval "$(qubrid-video completion bash)"   in ~/.bashrc (bash 4.4 or later)
  zsh:  eval "$(qubrid-video completion zsh)"    in ~/.zshrc, after compinit
  fish: qubrid-video completion fish > ~/.config/fish/completions/qubrid-video.fish"""
RESOLUTIONS = ("720p", "1080p")
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3")
MODELS = ("p-video",)


def _suggest(values: tuple[str, ...]) -> Any:
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        return [CompletionItem(value) for value in values if value.startswith(incomplete)]

    return complete


complete_resolution = _suggest(RESOLUTIONS)
complete_aspect_ratio = _suggest(ASPECT_RATIOS)
complete_model = _suggest(MODELS)


class ColonBashComplete(BashComplete):
    """Bash completion that completes values containing ``:`` (``16:9``).

    Bash splits the words it hands over at ``:`` (it is in ``COMP_WORDBREAKS``), so ``16:9``
    arrives as ``16``, ``:``, ``9`` and bash replaces only the part after the last colon. The
    words are joined again before click parses them, and each suggestion loses the part of the
    word already typed up to its last colon, as bash-completion's ``__ltrim_colon_completions`` does.
    """

    _colon_prefix = ""

    def get_completion_args(self) -> tuple[list[str], str]:
        """The words typed so far with colon-split words joined again, and the word being completed."""
        args, incomplete = super().get_completion_args()
        words = [*args, incomplete]
        joined: list[str] = []
        glue = False
        for word in words:
            # The word after a colon continues it ("16", ":", "9"), unless it is an option: the
            # words no longer say whether a space stood between them, and no value starts with "-".
            if joined and (word == ":" or (glue and not word.startswith("-"))):
                joined[-1] += word
            else:
                joined.append(word)
            glue = word == ":"
        self._colon_prefix = joined[-1][: joined[-1].rfind(":") + 1]
        return joined[:-1], joined[-1]

    def format_completion(self, item: CompletionItem[Any]) -> str:
        """``plain,VALUE`` with what bash already holds before the last colon taken off VALUE."""
        prefix = self._colon_prefix
        if prefix and isinstance(item.value, str) and item.value.startswith(prefix):
            item = CompletionItem(item.value[len(prefix) :], type=item.type, help=item.help)
        return super().format_completion(item)


add_completion_class(ColonBashComplete, "bash")
SHELLS: dict[str, type[ShellComplete]] = {"bash": ColonBashComplete, "zsh": ZshComplete, "fish": FishComplete}


@click.command(epilog=INSTALL)
@click.argument("shell", metavar="SHELL", type=click.Choice(list(SHELLS)))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL (bash, zsh or fish); it completes commands, options and values."""
    script = SHELLS[shell](ctx.find_root().command, {}, PROG_NAME, COMPLETE_VAR).source()
    click.echo(script)
