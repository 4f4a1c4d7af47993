"""Walk EVERY route of the application as every role and check exactly who gets in.

The expected table below is written from the default information sharing agreement and the roles,
independently of the code: a new route that is not in the table fails the test, so nobody can add
a page without deciding who may see it. "Allowed" means any status but 403 and 404 (a form may
answer 400 for the deliberately minimal body); everywhere else the answer must be 403 or 404, and
no response to a role without record-level access may contain a crime's identifier.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import Mount

from conftest import POLICE
from diogel.portal import services
from diogel.portal.models import User, utcnow
from portal.conftest import AREA, ROLES, page_csrf

ALL = set(ROLES)
PARTNERS = {"analyst", "contributor", "viewer", "member"}
LSOA = {"analyst", "contributor", "viewer"}  # LSOA level on police.uk under the default agreement
AREA_LEVEL = LSOA | {"member", "admin", "partnership_admin"}
BELOW_LSOA = ALL - LSOA  # roles that see police.uk figures at area level at most
RECORD = {"analyst"}
RECORDERS = {"analyst", "contributor"}
ADMINS = {"admin", "partnership_admin"}  # accounts (an agency's admin: that agency's only)
ADMIN = {"partnership_admin"}  # agencies, the agreement, the audit log

EXPECTED_DEFAULT: dict[tuple[str, str], set[str]] = {
    ("GET", "/"): ALL,
    ("GET", "/healthz"): ALL,
    ("GET", "/docs"): ALL,
    ("GET", "/openapi.json"): ALL,
    ("GET", "/login"): ALL,
    ("POST", "/login"): ALL,
    ("POST", "/logout"): ALL,
    ("GET", "/language/{lang}"): ALL,
    ("GET", "/dashboard"): LSOA,
    ("GET", "/api/dashboard"): LSOA,
    ("GET", "/data/{dataset}/records"): RECORD,
    ("GET", "/data/{dataset}/records.csv"): RECORD,
    ("GET", "/api/datasets/{dataset}/records"): RECORD,
    ("GET", "/data/{dataset}/lsoa"): LSOA,
    ("GET", "/data/{dataset}/lsoa.csv"): LSOA,
    ("GET", "/api/datasets/{dataset}/lsoa"): LSOA,
    ("GET", "/data/{dataset}/areas"): AREA_LEVEL,
    ("GET", "/data/{dataset}/areas.csv"): AREA_LEVEL,
    ("GET", "/api/datasets/{dataset}/areas"): AREA_LEVEL,
    ("GET", "/upload"): {"contributor"},
    ("POST", "/upload"): {"contributor"},
    ("POST", "/api/uploads"): {"contributor"},
    ("GET", "/uploads/{upload_id}"): {"contributor", "analyst"},
    ("GET", "/api/uploads/{upload_id}"): {"contributor", "analyst"},
    ("GET", "/meetings"): PARTNERS,
    ("GET", "/api/meetings"): PARTNERS,
    ("GET", "/meetings/{meeting_id}"): PARTNERS,
    ("GET", "/api/meetings/{meeting_id}"): PARTNERS,
    ("GET", "/meetings/new"): RECORDERS,
    ("POST", "/meetings"): RECORDERS,
    ("POST", "/api/meetings"): RECORDERS,
    ("POST", "/meetings/{meeting_id}/actions/{action_id}"): RECORDERS,
    ("GET", "/priorities"): PARTNERS,
    ("POST", "/priorities"): {"analyst"},
    ("POST", "/priorities/{priority_id}"): {"analyst"},
    ("GET", "/standards"): PARTNERS,
    ("GET", "/api/standards"): PARTNERS,
    ("GET", "/standards/{year}/edit"): {"analyst"},
    ("POST", "/standards/{year}"): {"analyst"},
    ("GET", "/assessments"): PARTNERS,
    ("GET", "/api/assessments"): PARTNERS,
    ("POST", "/assessments"): {"analyst"},
    ("POST", "/assessments/{assessment_id}/publish"): {"analyst"},
    ("POST", "/assessments/{assessment_id}/public"): {"analyst"},
    ("GET", "/public/{area_code}/assessment"): ALL,
    ("GET", "/targets"): PARTNERS,
    ("POST", "/targets"): {"analyst"},
    ("GET", "/ratings"): PARTNERS,
    ("POST", "/ratings"): {"analyst"},
    ("GET", "/meetings.csv"): PARTNERS,
    ("POST", "/meetings/import"): RECORDERS,
    ("GET", "/assessments/{assessment_id}/{filename}"): PARTNERS,
    ("GET", "/public"): ALL,
    ("GET", "/public/{area_code}"): ALL,
    ("GET", "/api/public/{area_code}"): ALL,
    ("GET", "/scrutiny"): {"member", "analyst"},
    ("GET", "/api/scrutiny"): {"member", "analyst"},
    ("GET", "/admin/users"): ADMINS,
    ("POST", "/admin/users"): ADMINS,
    ("POST", "/admin/users/{user_id}"): ADMINS,
    ("GET", "/admin/agencies"): ADMIN,
    ("POST", "/admin/agencies"): ADMIN,
    ("GET", "/admin/agreement"): ADMIN,
    ("POST", "/admin/agreement/access"): ADMIN,
    ("POST", "/admin/agreement/upload"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/api/users"): ADMINS,
    ("GET", "/api/agreement"): ADMIN,
    ("GET", "/api/audit/verify"): ADMIN,
    ("GET", "/api/me"): ALL,
    ("GET", "/api/datasets"): ALL,
}


EXPECTED = dict(EXPECTED_DEFAULT)


def small_police_csv(rows: int = 40) -> bytes:
    """The first rows of a real police.uk month not in the bundled year (June 2024, Gwent)."""
    lines = (POLICE / "2024-06-gwent-street.csv").read_bytes().splitlines(keepends=True)
    return b"".join(lines[: rows + 1])


def _fixtures(h) -> dict[str, str]:  # noqa: ANN001
    """Real objects for every path parameter: an upload, a meeting with an action, an assessment."""
    contributor = h.client("contributor")
    r = contributor.post(
        "/upload",
        data={"dataset": "police-street", "csrf_token": page_csrf(contributor)},
        files={"file": ("2024-06-gwent-street.csv", small_police_csv(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    upload_id = r.headers["location"].rsplit("/", 1)[1]
    analyst = h.client("analyst")
    ward = h.portal.views.neighbourhoods(AREA)[0][0]
    body = {
        "meeting_date": "2025-05-14", "neighbourhood_code": ward, "attendees": 12,
        "profile": {"age": {"55-64": 4, "65-74": 5, "75+": 3}},
        "priorities": [{"theme": "Speeding", "votes": 9, "chosen": True}],
        "actions": [{"description": "Speed watch on the main road", "owner": "PCSO Jones", "review_date": "2025-08-01"}],
    }  # fmt: skip
    r = analyst.post("/api/meetings", json=body, headers={"X-CSRF-Token": page_csrf(analyst)})
    assert r.status_code == 201, r.text
    meeting = r.json()
    folder = h.data_dir / "assessments" / "2025"
    folder.mkdir(parents=True)
    (folder / "assessment.html").write_text("<html><body><h1>Strategic assessment 2025</h1></body></html>")
    (folder / "figures.json").write_text(json.dumps({"area": {"code": AREA}}))
    (folder / "public.html").write_text(
        "<html><body><h1>Strategic assessment 2025 (public)</h1></body></html>"
    )
    with h.portal.db.session() as s:
        analyst_user = s.execute(select(User).where(User.username == "analyst")).scalar_one()
        row = services.register_assessment(s, analyst_user, str(folder), h.data_dir, "SA 2025")
        services.publish_assessment(s, analyst_user, row, True)
        row.public_at, row.public_area, row.public_notes = utcnow(), AREA, "[]"  # published to the public
        agency = analyst_user.agency
        spare = services.create_user(s, None, "spare", "a long enough password", "viewer", agency)
        priority = services.save_priority(
            s, analyst_user, AREA, {"title": "Violence in the night-time economy", "adopted_on": "2025-04-01",
                                    "crime_type": "Violence and sexual offences"},
        )  # fmt: skip
        assessment_id, spare_id, priority_id = row.id, spare.id, priority.id
        agency_id = agency.id
    return {
        "dataset": "police-street", "upload_id": upload_id, "meeting_id": str(meeting["id"]),
        "action_id": str(meeting["actions"][0]["id"]), "assessment_id": str(assessment_id),
        "filename": "assessment.html", "year": "2025", "area_code": AREA, "user_id": str(spare_id), "lang": "cy",
        "priority_id": str(priority_id), "agency_id": str(agency_id),
    }  # fmt: skip


def _request(client, method: str, path: str, token: str, upload_ds: str, agency_id: str = "1"):  # noqa: ANN001, ANN202
    """One call with a minimal, well-formed body and this browser's CSRF token."""
    if method == "GET":
        return client.get(path, follow_redirects=False)
    headers = {"X-CSRF-Token": token}
    if path in ("/upload", "/api/uploads"):
        files = {"file": ("not-police.csv", io.BytesIO(b"a,b\n1,2\n"), "text/csv")}
        return client.post(
            path, data={"dataset": upload_ds}, files=files, headers=headers, follow_redirects=False
        )
    if path == "/api/meetings":
        return client.post(
            path,
            json={"meeting_date": "2025-01-01", "neighbourhood_code": "x", "attendees": 1},
            headers=headers,
        )
    forms = {
        "/login": {"username": "nobody", "password": "wrong wrong wrong"},
        "/admin/users": {"username": "x", "password": "short", "role": "viewer", "agency_id": agency_id},
        "/admin/agencies": {"name": "", "kind": "fire"},
        "/admin/agreement/access": {"dataset": "police-street", "role": "viewer", "level": "lsoa"},
        "/admin/agreement/upload": {"dataset": "police-street", "agency_id": "1", "allowed": "no"},
        "/assessments": {"directory": "/nonexistent"},
    }
    data = forms.get(path)
    if data is None:
        if "/actions/" in path:
            data = {"status": "in progress"}
        elif path.startswith("/admin/users/"):
            data = {"unlock": "yes"}
        elif path.startswith("/standards/"):
            data = {}
        elif path.endswith("/publish"):
            data = {"publish": "yes"}
        else:
            data = {}
    return client.post(path, data=data, headers=headers, follow_redirects=False)


def all_routes(routes, prefix: str = ""):  # noqa: ANN001, ANN201
    """(path, route) for every route, including those of included routers (FastAPI >= 0.160 keeps
    an included router as one entry of ``app.routes``; older versions copy its routes in)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from all_routes(route.original_router.routes, prefix + route.include_context.prefix)
        else:
            yield prefix + route.path, route


def test_every_route_for_every_role(harness) -> None:
    routes: dict[tuple[str, str], APIRoute] = {}
    mounts = []
    for path, route in all_routes(harness.app.routes):
        if isinstance(route, Mount):
            mounts.append(path)
            continue
        for method in route.methods - {"HEAD"}:
            routes[(method, path)] = route
    assert set(routes) == set(EXPECTED), (
        f"routes without an expected rule: {sorted(set(routes) - set(EXPECTED))}; "
        f"rules without a route: {sorted(set(EXPECTED) - set(routes))}"
    )
    assert mounts == ["/static"]
    if "partner:licensed_premises" in harness.portal.datasets:
        # With the partner source kind present, the default agreement lets a local authority
        # (the analyst's council) upload its licensed premises register.
        for key in (("GET", "/upload"), ("POST", "/upload"), ("POST", "/api/uploads")):
            EXPECTED[key] = {"contributor", "analyst"}
    params = _fixtures(harness)
    # Crime IDs the record level shows: none of them may appear in any other role's responses.
    analyst = harness.client("analyst")
    records = analyst.get("/api/datasets/police-street/records?limit=500").json()["records"]
    crime_ids = {r["crime_id"] for r in records if r["crime_id"]}
    assert len(crime_ids) > 100

    failures = []
    checked: set[str] = set()
    for role in ROLES:
        client = harness.client(role)
        token = page_csrf(client)
        # Upload (badly) a dataset this role's agency may upload, so the answer shows the route's rule.
        datasets = client.get("/api/datasets").json()
        upload_ds = next((d["name"] for d in datasets if d["upload"]), "police-street")
        # Log out last: it ends the session the other calls rely on.
        for (method, path), _ in sorted(routes.items(), key=lambda kv: kv[0][1] == "/logout"):
            url = re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], path)
            r = _request(client, method, url, token, upload_ds, params["agency_id"])
            allowed = role in EXPECTED[(method, path)]
            got_in = r.status_code not in (403, 404)
            if r.status_code >= 500:
                failures.append(f"{role} {method} {url}: server error {r.status_code}")
            elif allowed != got_in:
                failures.append(
                    f"{role} {method} {url}: expected {'allowed' if allowed else 'refused'}, got {r.status_code}"
                )
            if role != "analyst":
                body = r.text
                leaked = [c for c in crime_ids if c in body]
                if leaked or '"crime_id"' in body:
                    failures.append(
                        f"{role} {method} {url}: record-level data leaked ({len(leaked)} crime ids)"
                    )
            if role in BELOW_LSOA and re.search(r"\bW01\d{6}\b", r.text):
                failures.append(f"{role} {method} {url}: LSOA-level data shown to a role without LSOA access")
            if role in BELOW_LSOA and r.status_code == 200:
                small = small_cells(path, r)
                if small:
                    failures.append(
                        f"{role} {method} {url}: unsuppressed counts of 1 to 4 below LSOA level: {small[:5]}"
                    )
                checked.add(path)
    assert not failures, "\n".join(failures)
    # The data-level check looked at every route that publishes counts below the LSOA level.
    assert set(AGGREGATE_ROUTES) <= checked, set(AGGREGATE_ROUTES) - checked


#: Routes that publish police.uk counts below the LSOA level, and where their counts are.
AGGREGATE_ROUTES = (
    "/api/datasets/{dataset}/areas", "/api/public/{area_code}", "/api/scrutiny",
    "/data/{dataset}/areas", "/data/{dataset}/areas.csv", "/public/{area_code}", "/scrutiny", "/priorities",
)  # fmt: skip


def small_cells(path: str, r) -> list:  # noqa: ANN001
    """Counts of 1 to 4 in a response that publishes aggregates below the LSOA level."""
    values: list = []
    if path not in AGGREGATE_ROUTES:
        return []
    if path.startswith("/api/"):
        data = r.json()
        for row in data.get("wards", []):
            values += [v for k, v in row.items() if k != "ward"]
        for row in data.get("trends", []):
            values += [row["current"], row["previous"]]
        for row in data.get("priorities", []):
            values += [row["now"], row["before"]]
    elif path.endswith(".csv"):
        for line in r.text.splitlines()[1:]:
            values += [v for v in line.split(",")[1:]]
    else:
        # Every integer cell of every table of counts (the meetings' attendance is not a count of crimes).
        for table in re.findall(r"<table.*?</table>", r.text, flags=re.S):
            if "Attendees" in table:
                continue
            values += re.findall(r'<td class="n">([0-9][0-9,]*)</td>', table)
    out = []
    for v in values:
        if v is None or v == "" or v == "*":
            continue
        n = int(str(v).replace(",", ""))
        if 1 <= n <= 4:
            out.append(n)
    return out


def test_upload_results_stay_with_the_agency_unless_the_agreement_says_otherwise(sqlite_harness) -> None:
    """Finding 1/7 (data level): any analyst used to read every agency's upload results. Now a
    police upload is seen by its uploader, and by a council analyst only while the agreement gives
    that analyst record-level access to police.uk data."""
    h = sqlite_harness
    contributor = h.client("contributor")
    r = contributor.post(
        "/upload",
        data={"dataset": "police-street", "csrf_token": page_csrf(contributor)},
        files={"file": ("2024-06-gwent-street.csv", small_police_csv(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    url = "/api" + r.headers["location"]
    analyst = h.client("analyst")  # Newport City Council
    assert contributor.get(url).status_code == 200
    assert analyst.get(url).status_code == 200  # the default agreement: analysts see records
    admin = h.client("partnership_admin")
    r = admin.post(
        "/admin/agreement/access",
        data={"dataset": "police-street", "role": "analyst", "level": "lsoa", "csrf_token": page_csrf(admin)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert analyst.get(url).status_code == 404
    assert analyst.get(url.replace("/api", "", 1)).status_code == 404
    for role in ("viewer", "member", "admin", "partnership_admin", "public"):
        assert h.client(role).get(url).status_code in (403, 404), role


def test_static_assets_are_vendored(sqlite_harness) -> None:
    c = sqlite_harness.client()
    for path in (
        "/static/vendor/htmx/htmx.min.js",
        "/static/css/portal.css",
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
    ):
        r = c.get(path)
        assert r.status_code == 200 and len(r.content) > 1000, path
    assert c.get("/static/../portal.sqlite").status_code == 404


def test_agreement_is_data_and_changes_take_effect(sqlite_harness) -> None:
    """Lowering the analyst's level in the agreement closes the record-level routes at once."""
    h = sqlite_harness
    analyst = h.client("analyst")
    assert analyst.get("/api/datasets/police-street/records?limit=1").status_code == 200
    admin = h.client("partnership_admin")
    r = admin.post(
        "/admin/agreement/access",
        data={"dataset": "police-street", "role": "analyst", "level": "area", "csrf_token": page_csrf(admin)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    for path in ("/api/datasets/police-street/records", "/data/police-street/records", "/data/police-street/records.csv",
                 "/data/police-street/lsoa", "/dashboard"):  # fmt: skip
        assert analyst.get(path).status_code == 403, path
    assert analyst.get("/data/police-street/areas").status_code == 200
    # An agency-specific clause: police analysts keep record level even so.
    admin.post(
        "/admin/agreement/access",
        data={"dataset": "police-street", "role": "contributor", "agency_kind": "police", "level": "record",
              "csrf_token": page_csrf(admin)},
    )  # fmt: skip
    assert h.client("contributor").get("/api/datasets/police-street/records?limit=1").status_code == 200
    assert h.client("viewer").get("/api/datasets/police-street/records?limit=1").status_code == 403


@pytest.mark.parametrize("role", ["member", "public"])
def test_public_and_member_views_are_suppressed(sqlite_harness, role: str) -> None:
    """Every count shown below LSOA level went through disclosure control: no 1-4 anywhere."""
    c = sqlite_harness.client(role)
    data = c.get(f"/api/public/{AREA}").json()
    values = [v for row in data["wards"] for k, v in row.items() if k != "ward"]
    assert any(v is None for v in values), "nothing was suppressed: the test would prove nothing"
    assert all(v is None or v == 0 or v >= 5 for v in values)
    assert "suppressed" in data["rule"]
