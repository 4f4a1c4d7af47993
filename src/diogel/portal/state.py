"""The portal's shared state: its configuration, the :class:`Portal` every request reads (database,
secret, warehouse read models, templates), created once per application by :func:`diogel.portal.app.create_app`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from diogel.portal import i18n, isa, phrases
from diogel.portal.db import Database, database_url
from diogel.portal.pact import pact_frame
from diogel.portal.security import LoginThrottle, Signer, ThrottlePolicy, load_or_create_secret
from diogel.portal.views import Dataset, WarehouseViews, datasets

PACKAGE = resources.files("diogel.portal")


@dataclass
class PortalConfig:
    """Where the portal keeps things and how strict it is.

    ``db`` is the ``--db`` URL (None: SQLite ``portal.sqlite`` in ``data_dir``); ``warehouse`` the
    warehouse URL (None: DuckDB in ``data_dir``); ``area`` the partnership the dashboard shows by
    default (a CSP code; None: the CSP with the most recorded crime); ``secure_cookies`` adds the
    Secure flag (set it whenever the portal is reached over HTTPS, e.g. behind a reverse proxy).
    """

    data_dir: Path
    warehouse: str | None = None
    db: str | None = None
    area: str | None = None
    secure_cookies: bool = False
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    max_upload_mb: int = 200
    warm_cache: bool = True
    #: A folder of compiled catalogues (``<lang>/LC_MESSAGES/messages.mo``) to use instead of the
    #: packaged ones: a council can try its own translation without changing the package.
    translations: Path | None = None
    #: The areas the public pages list (CSP codes); None: every area whose police forces' files are loaded.
    public_areas: tuple[str, ...] | None = None


class Portal:
    """Everything a request needs, created once per application."""

    def __init__(self, config: PortalConfig, warehouse=None):  # noqa: ANN001
        from diogel.warehouse.access import Held, for_process

        self.config = config
        config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        from diogel.portal.audit import load_audit_key

        # The audit log's head is signed under the partnership secret (created here if this data
        # directory has none yet, as 'diogel init' does), which is never stored in this database.
        self.db = Database(
            database_url(config.db, config.data_dir), audit_key=load_audit_key(config.data_dir)
        )
        self.signer = Signer(load_or_create_secret(config.data_dir / "portal_secret.key"))
        self.throttle = LoginThrottle(config.throttle)
        # The portal does not keep an embedded DuckDB warehouse open (the command line could not
        # use it): each computation opens it and closes it (diogel.warehouse.access).
        self.access = (
            Held(warehouse) if warehouse is not None else for_process(config.warehouse, config.data_dir)
        )
        self.views = WarehouseViews(self.access)
        self.templates = _templates()
        self.datasets: dict[str, Dataset] = datasets()
        # A counter the dashboards' cache key includes, moved on whenever a PACT meeting changes,
        # because the priorities' community-concern score reads the meetings.
        self.pact_epoch = 0
        with self.db.session() as s:
            isa.seed_access(s, list(self.datasets))

    def default_area(self) -> str | None:
        if self.config.area:
            return self.config.area
        areas = self.views.areas()
        return areas[0].code if areas else None

    def warm(self) -> None:
        """Compute the default dashboard in the background so the first visitor does not wait."""

        def run() -> None:
            try:
                area = self.default_area()
                if area:
                    with self.db.session() as s:
                        frame = pact_frame(s, self, area)
                    self.views.dashboard(area, frame, ("pact", self.pact_epoch))
                    self.views.ward_table(area)
            except Exception:  # noqa: BLE001 - warming is an optimisation; the page computes on demand
                pass

        threading.Thread(target=run, name="diogel-warm", daemon=True).start()

    def close(self) -> None:
        self.db.close()
        self.access.close()  # a lent warehouse stays open: its lender closes it


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(PACKAGE / "templates")),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    # Numbers and dates by Babel in the request's language (en_GB or cy), read when a page renders.
    env.filters["num"] = i18n.number
    env.filters["pct"] = lambda v: "" if v is None or v != v else i18n.number(v, 1, sign=True) + "%"
    env.filters["share"] = lambda v: "" if v is None or v != v else i18n.number(v * 100) + "%"
    env.filters["cell"] = _cell
    env.filters["dec"] = lambda v: i18n.number(v, 1)
    env.filters["date"] = i18n.date
    env.filters["datetime"] = lambda v: i18n.date(v, with_time=True)
    env.filters["month"] = i18n.month
    env.filters["rule_words"] = phrases.rule_words
    env.filters["reason_words"] = phrases.reason_words
    env.filters["refusal_words"] = phrases.refusal_words
    env.filters["morile_words"] = phrases.morile_words
    env.filters["map_titles"] = phrases.map_titles
    env.globals["place"] = i18n.place
    return env


def _cell(value: Any) -> str:
    """A published count: ``*`` where suppressed (NA), otherwise with thousands separators."""
    import pandas as pd

    return "*" if value is None or pd.isna(value) else i18n.number(value)
