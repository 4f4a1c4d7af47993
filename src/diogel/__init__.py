"""diogel: partnership intelligence for Community Safety Partnerships.

The notebook API (:mod:`diogel.api`): :func:`open_warehouse`, :func:`ingest`, :func:`counts`,
:func:`assess` and :func:`allocate`. They are looked up on first use (PEP 562), so ``import diogel``
imports nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["__version__", "allocate", "assess", "counts", "ingest", "open_warehouse"]

if TYPE_CHECKING:
    from diogel.api import allocate, assess, counts, ingest, open_warehouse

_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        return getattr(importlib.import_module("diogel.api"), name)
    raise AttributeError(f"module 'diogel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)
