"""The coordinators' dashboard, served by the line's own aiohttp app.

Register with ``add_dashboard`` (a runtime web extender, see ``bot/web/extensions.py``).
Sign-in is a one-time link from the bot (``/dashboard``, see ``login.issue_login``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.web.dashboard import roster_page, views

if TYPE_CHECKING:
    from bot.app.runtime import LineRuntime

STATIC = Path(__file__).parent / "static"


async def _css(_request: web.Request) -> web.FileResponse:
    response = web.FileResponse(STATIC / "dashboard.css")
    response.headers["Cache-Control"] = "max-age=300"
    return response


def add_dashboard(app: web.Application, runtime: LineRuntime) -> None:
    """Add the dashboard routes under ``/dashboard`` to the line's web app."""
    app[views.RUNTIME] = runtime
    app.router.add_get("/dashboard", views.overview)
    app.router.add_get("/dashboard/live", views.live)
    app.router.add_get("/dashboard/login", views.login)
    app.router.add_post("/dashboard/logout", views.logout)
    app.router.add_get("/dashboard/stats", views.stats)
    app.router.add_get("/dashboard/content", views.content)
    app.router.add_get("/dashboard/export.csv", views.export_csv)
    app.router.add_get("/dashboard/roster", roster_page.roster_page)
    app.router.add_post("/dashboard/roster/add", roster_page.add)
    app.router.add_post("/dashboard/roster/update", roster_page.update)
    app.router.add_post("/dashboard/roster/pause", roster_page.pause)
    app.router.add_post("/dashboard/roster/remove", roster_page.remove)
    app.router.add_get("/dashboard/static/dashboard.css", _css)


__all__ = ["add_dashboard"]
