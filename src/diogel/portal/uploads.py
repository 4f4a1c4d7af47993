"""Reading an upload's body: only after the session and the CSRF token have been checked, straight
to a private folder, and never past the size limit.

The upload routes declare no form fields, so neither FastAPI nor the CSRF dependency parses the
body before the route's own dependencies have found a logged-in user the agreement lets upload.
Only then does :func:`receive` read the request stream, part by part:

* the CSRF token comes in the ``X-CSRF-Token`` header (checked before the body is touched) or as
  the ``csrf_token`` form field *before* the file; a file part that arrives before a valid token is
  refused without writing a byte of it;
* the file is written to a new folder under ``<data dir>/uploads`` (mode 0700) as it arrives, and
  the upload is refused the moment it passes ``max_bytes`` (a declared ``Content-Length`` over the
  limit is refused before reading anything); the folder is deleted on any refusal.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request
from python_multipart.multipart import MultipartParser, parse_options_header

from diogel.portal.i18n import gettext as _
from diogel.portal.security import CSRF_FIELD, tokens_match

#: Bytes of a multipart body besides the file (boundaries, part headers, the small fields).
ENVELOPE = 64 << 10
#: The small fields (dataset, csrf_token) are at most this long.
FIELD_LIMIT = 1024


class UploadRefused(HTTPException):
    pass


def safe_name(file_name: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(file_name or "upload").name).lstrip(".") or "upload"


@dataclass
class Received:
    """A spooled upload: the form's small fields and the file written to ``path``."""

    folder: Path
    fields: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    path: Path | None = None
    size: int = 0

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class _Reader:
    """python-multipart callbacks writing the one file part to disk under the limit."""

    def __init__(self, received: Received, max_bytes: int, expected_csrf: str | None, csrf_checked: bool):
        self.r = received
        self.max_bytes = max_bytes
        self.expected = expected_csrf
        self.csrf_ok = csrf_checked
        self.header_name = b""
        self.header_value = b""
        self.disposition = b""
        self.name = ""
        self.data = bytearray()
        self.out = None  # the open file of the current file part

    def on_part_begin(self) -> None:
        self.disposition, self.name, self.data = b"", "", bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name, self.header_value = b"", b""

    def on_headers_finished(self) -> None:
        _disposition, options = parse_options_header(self.disposition)
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            if not self.csrf_ok:
                raise UploadRefused(403, _("missing or wrong CSRF token: reload the page and try again"))
            if self.r.path is not None:
                raise UploadRefused(400, _("send one file per upload"))
            self.r.file_name = safe_name(options[b"filename"].decode("utf-8", "replace"))
            self.r.path = self.r.folder / self.r.file_name
            self.out = self.r.path.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.out is not None:
            self.r.size += end - start
            if self.r.size > self.max_bytes:
                raise _too_large(self.max_bytes)
            # A chunk of the request (64 KB at most): a page-cache write, cheaper than a thread hop.
            self.out.write(data[start:end])
            return
        if len(self.data) + end - start > FIELD_LIMIT:
            raise UploadRefused(400, _("a form field of the upload is too long"))
        self.data += data[start:end]

    def on_part_end(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None
            return
        value = self.data.decode("utf-8", "replace")
        self.r.fields[self.name] = value
        if self.name == CSRF_FIELD and not self.csrf_ok:
            if not tokens_match(self.expected, value):
                raise UploadRefused(403, _("missing or wrong CSRF token: reload the page and try again"))
            self.csrf_ok = True

    def close(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None


def _too_large(max_bytes: int) -> UploadRefused:
    return UploadRefused(413, _("the file is larger than the %(mb)d MB limit", mb=max_bytes // (1 << 20)))


async def receive(
    request: Request, spool_dir: Path, max_bytes: int, expected_csrf: str | None, csrf_checked: bool
) -> Received:
    """Read a multipart upload of one file (and small fields) from ``request``; the caller has
    already checked the session and the agreement. ``csrf_checked``: the header carried a valid
    token (otherwise the form field must, before the file). Raises :class:`UploadRefused`."""
    content_type = request.headers.get("content-type", "")
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or b"boundary" not in params:
        raise UploadRefused(400, _("send the file as multipart/form-data"))
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + ENVELOPE:
        raise _too_large(max_bytes)
    spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    received = Received(Path(tempfile.mkdtemp(prefix="upload-", dir=spool_dir)))
    reader = _Reader(received, max_bytes, expected_csrf, csrf_checked)
    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": reader.on_part_begin,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
        },
        max_size=max_bytes + ENVELOPE,
    )
    try:
        async for chunk in request.stream():
            if parser.write(chunk) != len(chunk):
                raise _too_large(max_bytes)
        parser.finalize()
    except UploadRefused:
        reader.close()
        received.cleanup()
        raise
    except Exception:  # noqa: BLE001 - python-multipart's errors: a malformed body
        reader.close()
        received.cleanup()
        raise UploadRefused(400, _("the upload is not a well-formed multipart form")) from None
    reader.close()
    if not reader.csrf_ok:
        received.cleanup()
        raise UploadRefused(403, _("missing or wrong CSRF token: reload the page and try again"))
    if received.path is None:
        received.cleanup()
        raise UploadRefused(400, _("choose a file to upload"))
    if received.size == 0:
        received.cleanup()
        raise UploadRefused(400, _("the file is empty"))
    return received
