"""One registry shape (issue 12): source kinds, report sections and commands load through entry-point
groups, the door a partnership's own package uses too."""

from __future__ import annotations

import re
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from diogel.cli import add_commands
from diogel.commands import COMMANDS
from diogel.errors import DiogelError
from diogel.registry import Registry
from diogel.report.sections import SECTIONS, Section, sections
from diogel.sources.registry import KINDS, kinds

ROOT = Path(__file__).resolve().parent.parent


def _entry_points(group: str) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project["entry-points"][group]


@pytest.mark.parametrize("registry", [KINDS, SECTIONS, COMMANDS], ids=["sources", "sections", "commands"])
def test_pyproject_declares_every_builtin_in_its_group(registry: Registry) -> None:
    assert sorted(_entry_points(registry.group).values()) == sorted(registry.builtins)


def test_section_and_kind_order_unchanged() -> None:
    assert [s.id for s in sections()] == [
        "executive_summary", "summary", "data", "levels", "harm", "where", "where_next", "partner",
        "drivers", "stop_search", "peers", "priorities", "performance", "conclusions", "methods",
    ]  # fmt: skip
    assert list(kinds()) == [
        "boundaries", "deprivation", "harm-weights", "lookup-la-csp-force", "lookup-lsoa11-lsoa21",
        "lookup-lsoa-ward-la", "pact", "partner", "police-outcomes", "police-stop-search", "police-street",
        "population",
    ]  # fmt: skip


def _plugin(tmp_path: Path, name: str, module_text: str, entry: str, group: str = "diogel.sections") -> None:
    """An installed package of one module declaring one entry point (a real dist-info on sys.path)."""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(module_text), encoding="utf-8")
    info = tmp_path / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry}\n", encoding="utf-8")


def test_a_package_adds_a_section_through_the_entry_point_group(tmp_path, monkeypatch) -> None:
    _plugin(
        tmp_path,
        "cardiff_local_section",
        """
        from diogel.report.sections import Section

        def build(ctx):
            raise NotImplementedError

        SECTION = Section(id="night_time_economy", title="Night-time economy", order=55, build=build)
        """,
        "night_time_economy = cardiff_local_section:SECTION",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh = Registry("diogel.sections", "report section", Section, lambda s: s.id, builtins=())
    found = fresh.items()
    assert "night_time_economy" in found and found["night_time_economy"].order == 55
    assert fresh.get("night_time_economy").title == "Night-time economy"
    with pytest.raises(DiogelError, match="unknown report section 'nope'; known: .*night_time_economy"):
        fresh.get("nope")
    sys.modules.pop("cardiff_local_section", None)


def test_a_broken_plugin_is_named_in_one_line(tmp_path, monkeypatch) -> None:
    _plugin(tmp_path, "broken_local_section", "raise RuntimeError('typo')\n", "x = broken_local_section")
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh = Registry("diogel.sections", "report section", Section, lambda s: s.id, builtins=())
    with pytest.raises(DiogelError) as err:
        fresh.items()
    assert str(err.value) == (
        "diogel.sections entry point x = 'broken_local_section' cannot be loaded: RuntimeError: typo"
    )
    assert "\n" not in str(err.value)


def test_a_name_registered_twice_is_refused() -> None:
    fresh = Registry("diogel.test-only", "thing", str, lambda s: s, builtins=())
    fresh.register("a")
    with pytest.raises(ValueError, match="thing 'a' is registered twice"):
        fresh.register("a")


def test_every_registered_kind_and_section_is_named_in_the_readme() -> None:
    # As datasette's test_docs: a kind or section nobody can read about is a bug.
    named = set(re.findall(r"`([a-z0-9_-]+)`", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert sorted(set(kinds()) - named) == []
    assert sorted({s.id for s in sections()} - named) == []


def test_kind_order_does_not_depend_on_what_was_imported_first() -> None:
    # The native ingest imports the police.uk parsers before the registry is read; in a full test
    # session that once put police-street second. The order is the built-ins' order, whatever ran first.
    import subprocess
    import sys

    code = (
        "import diogel.sources.policeuk_street, diogel.sources.harm_weights\n"
        "from diogel.sources.registry import kinds\nprint(','.join(kinds()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().split(",") == list(kinds())


def test_command_order_leads_with_the_warehouse_commands() -> None:
    names = [m.__name__.rsplit(".", 1)[1] for m in COMMANDS]
    assert names[:5] == ["init", "ingest", "kinds", "status", "counts"]
    assert names[5:] == sorted(names[5:]) and "assess" in names


def test_a_package_adds_a_command_through_the_entry_point_group(tmp_path, monkeypatch) -> None:
    _plugin(
        tmp_path,
        "cardiff_local_commands",
        """
        import typer

        def register(app: typer.Typer) -> None:
            @app.command("night-time-economy")
            def night_time_economy(venues: int = 3) -> None:
                print(f"{venues} licensed venues")
        """,
        "cardiff = cardiff_local_commands",
        group="diogel.commands",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh = Registry("diogel.commands", "command module", type(sys), lambda m: m.__name__, builtins=())
    app = typer.Typer()
    add_commands(app, fresh)
    names = [m.__name__ for m in fresh]
    assert "cardiff_local_commands" in names  # beside diogel's own, installed under the same group
    assert {f"diogel.commands.{n}" for n in ("assess", "ingest")} <= set(names)
    result = CliRunner().invoke(app, ["night-time-economy", "--venues", "7"])
    assert result.exit_code == 0 and result.output == "7 licensed venues\n"
    sys.modules.pop("cardiff_local_commands", None)
