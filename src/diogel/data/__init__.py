"""Data bundled with diogel: all-Wales reference data and 24 months of Gwent police.uk street data.

All real, published data under the Open Government Licence v3.0 (see README.md beside this file).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(*parts: str) -> Path:
    return Path(str(files("diogel.data").joinpath(*parts)))
