"""The README is tested documentation: every ``diogel`` command it shows exists and takes the options shown.

Running each line for real would need the user's downloads (the paths are examples), so this checks
the command line's shape against the CLI itself: the sub-command path resolves and every ``--option``
the README passes appears in that command's ``--help``.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from diogel.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    lines: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("diogel "):
                lines.append(shlex.split(line, comments=True)[1:])
    return lines


GLOBAL_OPTIONS = {"--data-dir", "--warehouse"}  # they take a value and come before the sub-command


def split_command(args: list[str]) -> tuple[list[str], list[str]]:
    """The sub-command path (``["funding", "allocate"]``) and every ``--option`` the line passes."""
    path: list[str] = []
    options = [a.split("=")[0] for a in args if a.startswith("--")]
    i = 0
    while i < len(args):
        a = args[i]
        if a in GLOBAL_OPTIONS:
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        if path and not _is_group(path):
            break
        path.append(a)
        i += 1
    return path, options


def _is_group(path: list[str]) -> bool:
    return "Commands" in CliRunner().invoke(app, [*path, "--help"], terminal_width=200).output


def test_the_readme_shows_commands() -> None:
    assert len(readme_commands()) >= 8


@pytest.mark.parametrize("args", readme_commands(), ids=lambda a: " ".join(a)[:60])
def test_each_readme_command_exists_with_its_options(args: list[str]) -> None:
    words, options = split_command(args)
    result = CliRunner().invoke(app, [*words, "--help"], terminal_width=200)
    assert result.exit_code == 0, f"diogel {' '.join(words)} --help failed:\n{result.output}"
    helped = CliRunner().invoke(app, ["--help"], terminal_width=200).output + result.output
    missing = [o for o in options if o not in helped]
    assert not missing, f"README passes {missing} to 'diogel {' '.join(words)}', which does not take them"
