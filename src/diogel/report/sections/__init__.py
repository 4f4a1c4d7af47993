"""The registry of report sections: one module per section, registered like a source kind.

A section is a :class:`Section` with an ``id`` (the HTML anchor), a title, a position in the report
and a ``build(ctx) -> SectionOutput`` function. Adding a section (e.g. partner data) is one new
module that calls :func:`register`, named in the ``diogel.sections`` entry-point group
(:mod:`diogel.registry`): a partnership's own section can be a package of its own. ``needs`` names sections whose results it reads
(``ctx.results[id]``); ``"*"`` means every other section (the summary and the methods appendix).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from diogel.registry import Registry
from diogel.report.context import Context, SectionOutput

__all__ = ["SECTIONS", "Section", "build_order", "register", "sections"]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    order: int
    build: Callable[[Context], SectionOutput]
    needs: tuple[str, ...] = ()
    description: str = ""


# The built-in sections; also declared as the "diogel.sections" entry points in pyproject.toml, the group
# through which a package adds its own section (diogel.registry). Report order is each section's `order`.
SECTIONS: Registry[Section] = Registry(
    group="diogel.sections",
    what="report section",
    item_type=Section,
    name_of=lambda section: section.id,
    builtins=tuple(
        f"diogel.report.sections.{m}"
        for m in (
            "conclusions",
            "data",
            "drivers",
            "executive_summary",
            "harm",
            "levels",
            "methods",
            "partner",
            "peers",
            "performance",
            "priorities",
            "stop_search",
            "summary",
            "where",
            "where_next",
        )
    ),
)


def register(section: Section) -> Section:
    """Add a section (its module calls this on import)."""
    return SECTIONS.register(section)


def sections() -> list[Section]:
    """Every registered section, in report order."""
    return sorted(SECTIONS.items().values(), key=lambda s: (s.order, s.id))


def build_order(items: list[Section]) -> list[Section]:
    """Sections in an order where each comes after those it needs (report order otherwise)."""
    ids = {s.id for s in items}
    done: list[Section] = []
    placed: set[str] = set()
    pending = list(items)
    while pending:
        progressed = False
        for s in list(pending):
            wants = ids - {s.id} if "*" in s.needs else set(s.needs) & ids
            # A "*" section waits for every section that is not itself a "*" section.
            if "*" in s.needs:
                wants = {i for i in wants if "*" not in next(x for x in items if x.id == i).needs}
            if wants <= placed:
                done.append(s)
                placed.add(s.id)
                pending.remove(s)
                progressed = True
        if not progressed:
            raise ValueError(f"report sections need each other in a cycle: {[s.id for s in pending]}")
    return done
