"""API fuzzing with Schemathesis against the live portal's /openapi.json, as an anonymous visitor and
as each role: no server error and no response that breaks the schema it declares.

The portal runs under uvicorn on a loopback port (tests/portal/test_findings.LiveServer); the
schema is loaded from it over HTTP, and each API operation gets a few generated requests (bounded:
the whole module stays well under two minutes). Every role sends its session cookie and its
session-bound CSRF token, so the unsafe operations are exercised past the CSRF check.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from portal.conftest import ROLES, page_csrf
from portal.test_findings import LiveServer

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES_PER_OPERATION = 3


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, master_warehouse):  # noqa: ANN001, ANN201
    import shutil

    from portal.conftest import make_harness

    folder = tmp_path_factory.mktemp("fuzz") / "data"
    folder.mkdir()
    shutil.copy(master_warehouse, folder / "warehouse.duckdb")
    h = make_harness(folder, None)
    with LiveServer(h.app) as server:
        yield h, f"http://127.0.0.1:{server.port}"
    h.portal.close()


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_api_fuzz_has_no_server_error_or_schema_breach(live, role: str) -> None:  # noqa: ANN001
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

    h, base = live
    client = h.client(role)
    cookies = {"diogel_session": client.cookies["diogel_session"]} if role != "public" else {}
    headers = {"X-CSRF-Token": page_csrf(client)} if role != "public" else {}
    if role == "public":
        client.get("/login")
        cookies = {"diogel_csrf": client.cookies["diogel_csrf"]}
        headers = {"X-CSRF-Token": page_csrf(client)}
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 18  # the whole JSON API, not an empty schema
    strategy = st.one_of(*[op.as_strategy() for op in operations])
    failures: list[str] = []
    statuses: list[int] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION * len(operations),
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:  # noqa: ANN001
        try:
            response = case.call(base_url=base, headers=headers, cookies=cookies, timeout=60)
            statuses.append(response.status_code)
            case.validate_response(
                response,
                checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            )
        except Exception as exc:  # noqa: BLE001 - collect every failure, report them together
            failures.append(f"{case.method} {case.formatted_path}: {str(exc).splitlines()[0][:300]}")

    run()
    assert len(statuses) >= len(operations)  # requests were made
    if role != "public":
        assert statuses.count(200) + statuses.count(201) > 0, "nothing got past the permission checks"
    assert not failures, f"{role}: " + "\n".join(sorted(set(failures))[:20])
