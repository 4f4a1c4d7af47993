"""The targets gatherer: the partnership's targets for an area and what measuring them needs.

The report's "Performance against targets" section is a pure function of this bundle: the targets
(the portal's, then those of a ``--targets`` YAML file) and, when there are any, the monthly counts
of the area and its most-similar group (:func:`diogel.gather.targets.target_inputs`, the reader the
portal's dashboard and scrutiny pack use too, so all three show the same figure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from diogel.analysis.targets import Target, load_targets
from diogel.gather.targets import TargetInputs, target_inputs

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

__all__ = ["TargetsBundle", "gather_targets"]


@dataclass(frozen=True)
class TargetsBundle:
    """``targets``: the area's targets (portal first, then the file's); ``inputs``: what
    :func:`diogel.analysis.targets.target_progress` measures them on, None when there are none."""

    targets: tuple[Target, ...]
    inputs: TargetInputs | None


def gather_targets(
    wh: Warehouse,
    area: str,
    from_portal: Sequence[Target] = (),
    path: Path | None = None,
    k: int | None = None,
) -> TargetsBundle:
    """The targets of ``area`` (a code) and, when it has any, the counts they are measured on
    (``k``: the size of the most-similar group, default 7 in Wales, 15 in England)."""
    targets = list(from_portal)
    if path:
        targets += load_targets(path, area=area)
    targets = [t for t in targets if t.area == area]
    return TargetsBundle(tuple(targets), target_inputs(wh, area, k) if targets else None)
