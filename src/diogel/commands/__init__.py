"""Command modules for the ``diogel`` CLI; each defines ``register(app)``. See :mod:`diogel.cli`.

:data:`COMMANDS` finds them as sections and source kinds are found (:mod:`diogel.registry`): diogel's
own modules here, and any package's module declared under the ``diogel.commands`` entry-point group::

    [project.entry-points."diogel.commands"]
    night_time_economy = "my_package.cli_commands"

whose ``register(app: typer.Typer)`` adds its commands, so a partnership's own command installs as a
package.
"""

from __future__ import annotations

import pkgutil
from types import ModuleType

from diogel.registry import Registry

# The warehouse's own commands, in the order a new user meets them, lead ``diogel --help``; every
# other module follows by name.
FIRST = ("init", "ingest", "kinds", "status", "counts")


def _builtins() -> tuple[str, ...]:
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    first = [n for n in FIRST if n in names]
    return tuple(f"{__name__}.{n}" for n in first + sorted(n for n in names if n not in first))


COMMANDS: Registry[ModuleType] = Registry(
    "diogel.commands",
    "command module",
    ModuleType,
    lambda module: module.__name__,
    builtins=_builtins(),
)
