"""Query parameters no page offers: control characters answer 400 (page or JSON), never a 500.

A NUL reached the warehouse as part of the SQL text (``crime_type=%00`` stopped DuckDB's parser
at the NUL and the portal answered 500); the portal now refuses control characters at the
query-parameter boundary, before any route runs. One portal for all cases (each costs ~4 s).
"""

from __future__ import annotations

from .conftest import PortalHarness

RECORDS_API = "/api/datasets/police-street/records"
RECORDS_PAGE = "/data/police-street/records"
REFUSED = "the address holds control characters: remove them and try again"


def test_control_characters_in_a_query_answer_400(sqlite_harness: PortalHarness) -> None:
    c = sqlite_harness.client("analyst")
    for value in ("%00", "Burglary%00", "%01", "%1F", "%7F", "a%0Ab"):
        r = c.get(f"{RECORDS_API}?crime_type={value}")
        assert r.status_code == 400, (value, r.status_code, r.text[:500])
        assert r.json() == {"detail": REFUSED}
        r = c.get(f"{RECORDS_PAGE}?crime_type={value}")
        assert r.status_code == 400, (value, r.status_code, r.text[:500])
        assert REFUSED in r.text and "<html" in r.text.lower()
    for query in ("area=%00", "month=2024-06%00", "%00=1", "page=1&crime_type=%00"):
        assert c.get(f"{RECORDS_PAGE}?{query}").status_code == 400, query
    anonymous = sqlite_harness.client()
    assert anonymous.get("/public?area=%00").status_code == 400  # pages without a login too

    # Ordinary values still answer; spaces and non-ASCII letters are not control characters.
    r = c.get(f"{RECORDS_API}?crime_type=Burglary&limit=5")
    assert r.status_code == 200, r.text[:500]
    assert r.json()["total"] > 0
    assert c.get(f"{RECORDS_API}?crime_type=Criminal%20damage%20and%20arson&limit=1").status_code == 200
    assert c.get(f"{RECORDS_API}?crime_type=Lladrad%C3%A1&limit=1").json()["total"] == 0
