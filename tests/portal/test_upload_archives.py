"""Archives uploaded to the portal go through the same bounded decompression as ``diogel ingest``:
a zip bomb, an archive with a stray member or a file that is not a zip answer with one line, never
a 500, and nothing is stored."""

from __future__ import annotations

import io
import zipfile

from conftest import POLICE
from test_hostile_input import zero_bomb

from .conftest import PortalHarness, page_csrf


def _post(client, name: str, data: bytes):  # noqa: ANN001, ANN202
    return client.post(
        "/api/uploads",
        data={"dataset": "police-street"},
        files={"file": (name, data, "application/zip")},
        headers={"X-CSRF-Token": page_csrf(client)},
    )


def test_refused_archives_answer_in_one_line(sqlite_harness: PortalHarness, tmp_path) -> None:  # noqa: ANN001
    contributor = sqlite_harness.client("contributor")
    views = sqlite_harness.portal.views

    def files_loaded() -> int:
        with views.reading() as wh:  # the portal does not keep the warehouse open
            return int(wh.execute(wh.table("source_file").count()))

    files_before = files_loaded()

    bomb = tmp_path / "bomb.zip"
    zero_bomb().write_zip_bomb(bomb, "2024-06/2024-06-gwent-street.csv", mib=64)
    stray = io.BytesIO()
    with zipfile.ZipFile(stray, "w") as zf:
        zf.writestr("2024-06/2024-06-gwent-street.csv", (POLICE / "2024-06-gwent-street.csv").read_bytes())
        zf.writestr("2024-06/run-me.exe", b"MZ\x90\x00")
    cases = {
        "2024-06.zip": (bomb.read_bytes(), "decompression bomb"),
        "stray.zip": (stray.getvalue(), "unexpected member"),
        "broken.zip": (b"PK\x03\x04 this is not really a zip archive", "not a readable zip"),
    }
    for name, (data, words) in cases.items():
        r = _post(contributor, name, data)
        assert r.status_code == 400, (name, r.status_code, r.text[:500])
        detail = r.json()["detail"]
        assert name in detail and words in detail and "\n" not in detail, detail
        assert "/upload-" not in detail  # names the file as uploaded, not the portal's temporary copy
    assert files_loaded() == files_before
    assert not any((sqlite_harness.data_dir / "uploads").iterdir())
