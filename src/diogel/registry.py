"""One registry shape for the things diogel is extended with: source kinds, report sections, commands.

A :class:`Registry` holds named items of one type. Its built-ins and any third party's are found the same
way, through an entry-point group (``diogel.sources``, ``diogel.sections``, ``diogel.commands``), as datasette finds its
plugins and ibis its backends: a package that declares, in its ``pyproject.toml``::

    [project.entry-points."diogel.sections"]
    my_section = "my_package.my_section"

has ``my_package.my_section`` imported when the registry is first read. The module registers its item
on import (``register(Section(...))``), or the entry point names the item itself
(``"my_package.my_section:SECTION"``) and the registry registers it. A registry whose items are
modules (the commands: each module adds its commands with ``register(app)``) registers the module.

diogel's own modules are listed in its ``pyproject.toml`` under the same groups and, so that a source
tree whose installed metadata predates a new module still finds it, also in ``builtins`` here (a test
checks the two lists agree). Nothing is imported before the registry is read, so ``import diogel``
stays cheap, and no registry imports the modules that register into it (no import circle).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from diogel.errors import DiogelError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Named items of one type, loaded from built-in modules and an entry-point group.

    Parameters
    ----------
    group : the entry-point group third-party packages add to (e.g. ``"diogel.sections"``).
    what : what an item is called in messages (e.g. ``"report section"``).
    item_type : the type of the items (an entry point may name one directly).
    name_of : the item's name (its key in the registry).
    builtins : modules shipped with diogel that register items on import, in registration order.
    """

    def __init__(
        self,
        group: str,
        what: str,
        item_type: type[T],
        name_of: Callable[[T], str],
        builtins: tuple[str, ...],
    ) -> None:
        self.group, self.what, self.item_type, self.name_of = group, what, item_type, name_of
        self.builtins = builtins
        self._items: dict[str, T] = {}
        # Each item's place: its built-in module's position in ``builtins`` (plugins after), then the
        # order of registration; so the order never depends on which module some other import
        # happened to load first.
        self._rank: dict[str, tuple[int, int]] = {}
        self._builtin_index = {m: i for i, m in enumerate(builtins)}
        self._loaded = False

    def register(self, item: T, *, origin: int | None = None) -> T:
        """Add ``item``; a second item of the same name is an error (two modules claiming one name).
        ``origin`` is the item's place among the built-ins when the registry itself registers it."""
        name = self.name_of(item)
        if name in self._items:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._items[name] = item
        self._rank[name] = (self._origin() if origin is None else origin, len(self._rank))
        return item

    def _origin(self) -> int:
        """Position in ``builtins`` of the built-in module whose import is registering (plugins: last)."""
        frame = sys._getframe(2)
        while frame is not None:
            index = self._builtin_index.get(frame.f_globals.get("__name__", ""))
            if index is not None:
                return index
            frame = frame.f_back
        return len(self.builtins)

    def get(self, name: str) -> T:
        """The item called ``name``; a one-line error listing the known names otherwise."""
        items = self.items()
        try:
            return items[name]
        except KeyError:
            raise DiogelError(f"unknown {self.what} {name!r}; known: {', '.join(sorted(items))}") from None

    def items(self) -> dict[str, T]:
        """Every registered item by name: built-ins in the order of ``builtins``, then plugins in
        registration order."""
        self.load()
        return dict(sorted(self._items.items(), key=lambda kv: self._rank[kv[0]]))

    def __iter__(self) -> Iterator[T]:
        return iter(self.items().values())

    def load(self) -> None:
        """Import the built-in modules, then every module or item of the entry-point group (once)."""
        if self._loaded:
            return
        self._loaded = True  # before importing: the modules call register() while they are imported
        for index, module in enumerate(self.builtins):
            imported = importlib.import_module(module)
            if isinstance(
                imported, self.item_type
            ):  # a registry of modules (commands): the module is the item
                self._register_once(imported, origin=index)
        for ep in sorted(entry_points(group=self.group), key=lambda ep: ep.name):
            try:
                loaded = ep.load()
            except Exception as exc:  # a broken plugin names itself, in one line
                raise DiogelError(
                    f"{self.group} entry point {ep.name} = {ep.value!r} cannot be loaded: {type(exc).__name__}: {exc}"
                ) from None
            if isinstance(loaded, self.item_type):
                self._register_once(loaded)

    def _register_once(self, item: T, origin: int | None = None) -> None:
        """Register ``item`` unless it already is (a built-in is found both ways when installed)."""
        if not any(item is known for known in self._items.values()):
            self.register(item, origin=origin)
