"""One router per resource. Each resource has one handler (and one data function) whose answer's
format (a page, JSON under ``/api/``, CSV) the request's address picks; only the forms that change
a resource have handlers of their own."""

from __future__ import annotations

from fastapi import APIRouter

from diogel.portal.routes import (
    agreement,
    assessments,
    dashboard,
    data,
    meetings,
    priorities,
    public,
    scrutiny,
    session,
    standards,
    targets,
    uploads,
    users,
)

#: In the order the application includes them.
ROUTERS: tuple[APIRouter, ...] = (
    session.router,
    session.api,
    dashboard.router,
    data.router,
    uploads.router,
    meetings.router,
    standards.router,
    assessments.router,
    priorities.router,
    public.router,
    scrutiny.router,
    users.router,
    agreement.router,
    targets.router,
)
