"""The README is tested documentation: every ``diogel`` command it shows parses as the CLI defines it.

Running each line for real would need the user's downloads (the paths are examples), so each line is
parsed by the command line itself without running it: the sub-command path must exist, every option
must be one it takes, no argument may be left over and none required may be missing. Only a
complaint about a value (an example path that does not exist here) is accepted.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from typer._click import exceptions as click  # typer 0.2x parses with its own copy of click

from diogel.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    lines: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("diogel "):
                lines.append(shlex.split(line.split(" > ")[0])[1:])
    return lines


def parse(args: list[str]) -> list[str]:
    """Parse ``diogel args`` down to the leaf command without invoking it; return the command path."""
    command = typer.main.get_command(app)
    path: list[str] = []
    rest = list(args)
    while True:
        ctx = command.make_context(" ".join(["diogel", *path]) or "diogel", rest)
        if not hasattr(command, "resolve_command"):
            return path
        # Click keeps the sub-command name apart from its arguments.
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        name, command, rest = command.resolve_command(ctx, rest)
        path.append(name)


def test_the_readme_shows_commands() -> None:
    assert len(readme_commands()) >= 20


@pytest.mark.parametrize("args", readme_commands(), ids=lambda a: " ".join(a)[:60])
def test_each_readme_command_parses(args: list[str]) -> None:
    try:
        parse(args)
    except click.MissingParameter as exc:
        pytest.fail(f"README line 'diogel {' '.join(args)}' leaves out {exc.format_message()}")
    except click.BadParameter:
        pass  # an example value (a file that exists only on the user's machine): the shape is right
    except click.UsageError as exc:
        pytest.fail(f"README line 'diogel {' '.join(args)}' does not parse: {exc.format_message()}")
