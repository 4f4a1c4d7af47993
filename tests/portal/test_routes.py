"""One handler per resource (issue 12): a resource's page, its JSON under ``/api/`` and its CSV are
answered by the same route handler, which builds the data once and lets the address pick the format."""

from __future__ import annotations

from fastapi.routing import APIRoute

from diogel.portal.routes import ROUTERS

#: API routes with no page twin: the caller's identity and the dataset list exist for scripts only, and
#: a meeting sent as a JSON document has its own body (the form posts flat fields); both bodies go
#: through the one :func:`diogel.portal.services.record_meeting`.
API_ONLY = {("GET", "/api/me"), ("GET", "/api/datasets")}


def _routes() -> list[APIRoute]:
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def test_every_api_route_is_answered_by_its_page_handler() -> None:
    routes = _routes()
    pages = {r.endpoint for r in routes if not r.path.startswith("/api/")}
    api = [(method, r) for r in routes if r.path.startswith("/api/") for method in r.methods]
    twins = [(m, r.path) for m, r in api if (m, r.path) not in API_ONLY and r.endpoint not in pages]
    assert not twins, f"API routes with a handler of their own (a twin of a page's): {twins}"
    assert len(api) == 18  # every API route of the portal is one of these


def test_each_address_has_one_handler() -> None:
    seen: dict[tuple[str, str], str] = {}
    for r in _routes():
        for method in r.methods:
            assert (method, r.path) not in seen, (method, r.path, r.endpoint.__name__, seen[(method, r.path)])
            seen[(method, r.path)] = r.endpoint.__name__


def test_the_api_keeps_its_operation_names_and_only_the_api_is_described() -> None:
    """The OpenAPI description is the API's alone (pages and CSV stay out), under the operation
    names it had before the handlers were joined."""
    described = {(sorted(r.methods)[0], r.path): r.name for r in _routes() if r.include_in_schema}
    assert all(path.startswith("/api/") for _m, path in described)
    assert described[("GET", "/api/dashboard")] == "api_dashboard"
    assert described[("GET", "/api/datasets/{dataset}/records")] == "api_records"
    assert described[("POST", "/api/uploads")] == "api_upload"
