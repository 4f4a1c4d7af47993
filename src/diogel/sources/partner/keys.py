"""The partnership's pseudonymisation key: where it lives, how it is created and checked.

Pseudonyms (:func:`diogel.sources.partner.depersonalise.pseudonymise`) are keyed HMAC-SHA256 digests.
The key is a random 32-byte secret kept in a file OUTSIDE the warehouse, by default
``<data dir>/secrets/partner-pseudonym.key`` (folder mode 0700, file mode 0600), or wherever
``DIOGEL_PARTNER_SECRET`` points. No warehouse table holds it, so a copy of the warehouse (a DuckDB file,
a PostgreSQL dump, a Spark folder) cannot be used to test guesses such as every possible NHS number
against the stored pseudonyms. Back the key file up separately and do not copy it with the warehouse:
without it, new pseudonyms no longer link to old ones (the warehouse stays readable).

Each stored partner row carries the key's ``key_id``: the first 16 hex characters of
``HMAC-SHA256(key, "diogel partner key id")``. It reveals nothing about the key but lets ingest notice
that the key file has been replaced or lost, which would silently break linkage between old and new
pseudonyms; ingest then refuses rather than mixing two keys.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from diogel.errors import DiogelError
from diogel.sources.partner.depersonalise import load_or_create_secret

SECRET_ENV = "DIOGEL_PARTNER_SECRET"
SECRET_FILE = Path("secrets") / "partner-pseudonym.key"
_KEY_ID_MESSAGE = b"diogel partner key id"


def secret_path(data_dir: str | Path) -> Path:
    """Where the key is: ``$DIOGEL_PARTNER_SECRET`` if set, else ``<data_dir>/secrets/partner-pseudonym.key``."""
    env = os.environ.get(SECRET_ENV)
    return Path(env).expanduser() if env else Path(data_dir) / SECRET_FILE


def key_id(secret: bytes) -> str:
    """A short public identifier of ``secret`` (see the module docstring); not reversible."""
    return hmac.new(secret, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]


def _spark_dir(data_dir: Path) -> Path:
    # The only warehouse *folder* a data directory holds (Spark tables); the key must not be inside it.
    return data_dir / "spark-tables"


def ensure_partner_secret(data_dir: str | Path) -> tuple[Path, bool]:
    """Create the key if it does not exist yet (``diogel init``); return its path and whether it was created.

    Raises
    ------
    DiogelError
        if an existing key file is readable by other users or malformed (see ``load_or_create_secret``).
    """
    data_dir = Path(data_dir)
    path = secret_path(data_dir)
    existed = path.exists()
    load_or_create_secret(path, warehouse_dir=_spark_dir(data_dir))
    return path, not existed


def stored_key_ids(wh) -> set[str]:  # noqa: ANN001
    """The key ids of partner rows already in the warehouse ``wh`` (empty if none were pseudonymised)."""
    if not wh.has("partner_record"):
        return set()
    t = wh.table("partner_record")
    ids = wh.execute(t.filter(t.key_id.notnull()).select("key_id").distinct())
    return set(ids.key_id)


def partner_secret(wh=None, data_dir: str | Path | None = None) -> bytes:  # noqa: ANN001
    """The key for pseudonymising partner files ingested into ``wh``.

    A missing key is created only while the warehouse holds no pseudonymised partner rows (a first
    ingest); once it does, a missing or different key is refused, because pseudonyms made with another
    key would not link to the stored ones.

    Parameters
    ----------
    wh : the warehouse being loaded (None: no check against stored rows).
    data_dir : the data directory when ``wh`` is None (default: ``DIOGEL_DATA_DIR`` or ``./diogel-data``).
    """
    from diogel.warehouse.core import data_dir_from_env

    base = Path(wh.data_dir) if wh is not None else data_dir_from_env(data_dir)
    path = secret_path(base)
    known = stored_key_ids(wh) if wh is not None else set()
    if not path.exists() and known:
        raise DiogelError(
            f"the partner pseudonymisation key {path} is missing, but the warehouse holds partner data "
            f"pseudonymised with key id {', '.join(sorted(known))}: restore that key file (or point "
            f"{SECRET_ENV} at it); a new key would make new pseudonyms unlinkable to the stored ones"
        )
    secret = load_or_create_secret(path, warehouse_dir=_spark_dir(base))
    kid = key_id(secret)
    if known and kid not in known:
        raise DiogelError(
            f"the partner pseudonymisation key {path} (key id {kid}) is not the key the stored partner data "
            f"was pseudonymised with (key id {', '.join(sorted(known))}): restore the original key file"
        )
    return secret
