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


def load_partner_secret(data_dir: Path, known: set[str]) -> bytes:
    """The key under ``data_dir``, checked against ``known``, the key ids of the stored partner rows.

    A missing key is created only while ``known`` is empty (a first ingest); once partner rows were
    pseudonymised, a missing or different key is refused, because pseudonyms made with another key would
    not link to the stored ones. The warehouse hands the key to the partner parser through
    :func:`diogel.warehouse.inputs.partner_secret`.
    """
    path = secret_path(data_dir)
    if not path.exists() and known:
        raise DiogelError(
            f"the partner pseudonymisation key {path} is missing, but the warehouse holds partner data "
            f"pseudonymised with key id {', '.join(sorted(known))}: restore that key file (or point "
            f"{SECRET_ENV} at it); a new key would make new pseudonyms unlinkable to the stored ones"
        )
    secret = load_or_create_secret(path, warehouse_dir=_spark_dir(data_dir))
    kid = key_id(secret)
    if known and kid not in known:
        raise DiogelError(
            f"the partner pseudonymisation key {path} (key id {kid}) is not the key the stored partner data "
            f"was pseudonymised with (key id {', '.join(sorted(known))}): restore the original key file"
        )
    return secret
