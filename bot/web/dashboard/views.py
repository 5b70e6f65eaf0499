"""The dashboard's routes: sign-in, the live queue, statistics, content status, CSV.

Who may see what is decided here, per request, from the roster: coordinators see
everything; specialists see the queue and who is on duty (read-only, no statistics and
no export). Every page view and export is written to the audit log — never content.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.web.dashboard import data
from bot.web.dashboard.auth import COOKIE_NAME, issued_in_time, make_cookie, read_cookie
from bot.web.dashboard.content_status import content_status
from bot.web.dashboard.coverage import content_coverage
from bot.web.dashboard.login import consume_token
from bot.web.dashboard.templating import page, security_headers
from core.storage.models import AuditEntry, Staff
from handoff.roster import end_sessions

if TYPE_CHECKING:
    from bot.app.runtime import LineRuntime

RUNTIME: web.AppKey[LineRuntime] = web.AppKey("dashboard_runtime")
EXPORT_MAX_DAYS = 3660
COORDINATOR = "coordinator"


def _now() -> datetime:
    return datetime.now(UTC)


def _rt(request: web.Request) -> LineRuntime:
    return request.app[RUNTIME]


async def signed_in(request: web.Request) -> Staff | None:
    """The staff member behind a valid cookie who is still on the roster and has not
    signed out (or been removed and added back) since it was issued, else ``None``."""
    rt = _rt(request)
    session = read_cookie(rt.settings.secret, request.cookies.get(COOKIE_NAME), _now())
    if session is None:
        return None
    async with rt.db.reports() as s:
        staff = await s.get(Staff, session.staff_id)
    if staff is None or not issued_in_time(session, staff.sessions_valid_from):
        return None
    return staff


async def audit(request: web.Request, staff: Staff, action: str, **details: Any) -> None:
    """``staff:<id>`` did ``action`` (what was viewed, never what it showed)."""
    async with _rt(request).db.tx() as s:
        s.add(AuditEntry(at=_now(), actor=f"staff:{staff.tg_user_id}", action=action,
                         details=details, evidence=[]))


def _base(staff: Staff, active: str) -> dict[str, Any]:
    return {"staff": staff, "coordinator": staff.role == COORDINATOR, "active": active}


async def _guard(request: web.Request, *, coordinator: bool = False
                 ) -> Staff | web.Response:
    staff = await signed_in(request)
    if staff is None:
        return page("signed_out.html.j2", status=401)
    if coordinator and staff.role != COORDINATOR:
        return page("forbidden.html.j2", status=403, **_base(staff, ""))
    return staff


# --- sign-in ---------------------------------------------------------------------------------


async def login(request: web.Request) -> web.Response:
    rt = _rt(request)
    now = _now()
    async with rt.db.tx() as s:
        staff_id = await consume_token(s, request.query.get("token", ""), now)
        staff = await s.get(Staff, staff_id) if staff_id is not None else None
        if staff is not None:
            s.add(AuditEntry(at=now, actor=f"staff:{staff.tg_user_id}",
                             action="dashboard_login", details={}, evidence=[]))
    if staff is None:
        return page("login_failed.html.j2", status=403)
    value, max_age = make_cookie(rt.settings.secret, staff.tg_user_id, now)
    response = web.HTTPSeeOther("/dashboard")
    response.set_cookie(COOKIE_NAME, value, max_age=max_age, path="/dashboard", httponly=True,
                        samesite="Lax",
                        secure=rt.settings.base_public_url.startswith("https://"))
    security_headers(response)
    raise response


async def logout(request: web.Request) -> web.Response:
    """Sign out everywhere: every cookie this staff member was issued until now stops
    working on every replica (not just this browser's)."""
    staff = await signed_in(request)
    if staff is not None:
        now = _now()
        async with _rt(request).db.tx() as s:
            await end_sessions(s, staff.tg_user_id, now)
            s.add(AuditEntry(at=now, actor=f"staff:{staff.tg_user_id}",
                             action="dashboard_logout", details={}, evidence=[]))
    response = web.HTTPSeeOther("/dashboard")
    response.del_cookie(COOKIE_NAME, path="/dashboard")
    raise response


# --- pages -----------------------------------------------------------------------------------


async def overview(request: web.Request) -> web.Response:
    staff = await _guard(request)
    if isinstance(staff, web.Response):
        return staff
    await audit(request, staff, "dashboard_view", page="queue")
    return page("overview.html.j2", **_base(staff, "queue"), **await _live_params(request))


async def _live_params(request: web.Request) -> dict[str, Any]:
    now = _now()
    async with _rt(request).db.reports() as s:
        queue = await data.queue_rows(s, now)
        duty = await data.duty_rows(s, now)
    titles = {t.id: t.title.get("en", t.id) for t in _rt(request).content.current.topics}
    return {"queue": queue, "duty": duty, "now": now, "topic_titles": titles}


async def live(request: web.Request) -> web.Response:
    """The queue and duty fragment the open page re-fetches every few seconds.

    Not audited on each refresh: the page view that opened it already was, and an
    entry every two seconds would bury the entries that matter.
    """
    staff = await _guard(request)
    if isinstance(staff, web.Response):
        return staff
    return page("live.html.j2", **_base(staff, "queue"), **await _live_params(request))


async def stats(request: web.Request) -> web.Response:
    staff = await _guard(request, coordinator=True)
    if isinstance(staff, web.Response):
        return staff
    await audit(request, staff, "dashboard_view", page="stats")
    async with _rt(request).db.reports() as s:
        numbers = await data.stats_page(s, _now())
    topic_titles = {t.id: t.title.get("en", t.id) for t in _rt(request).content.current.topics}
    return page("stats.html.j2", **_base(staff, "stats"), s=numbers, topic_titles=topic_titles)


async def content(request: web.Request) -> web.Response:
    staff = await _guard(request, coordinator=True)
    if isinstance(staff, web.Response):
        return staff
    await audit(request, staff, "dashboard_view", page="content")
    rt = _rt(request)
    max_age, today = rt.settings.resource_max_age_days, _now().date()
    status = content_status(rt.content, max_age, today)
    coverage = content_coverage(rt.content.current, max_age, today)
    return page("content.html.j2", **_base(staff, "content"), c=status, cov=coverage)


def _cell(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas; defuse them."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


async def export_csv(request: web.Request) -> web.Response:
    staff = await _guard(request, coordinator=True)
    if isinstance(staff, web.Response):
        return staff
    try:
        days = min(EXPORT_MAX_DAYS, max(1, int(request.query.get("days", data.WINDOW_DAYS))))
    except ValueError:
        days = data.WINDOW_DAYS
    now = _now()
    async with _rt(request).db.reports() as s:
        rows = await data.export_rows(s, now.date(), days)
    await audit(request, staff, "dashboard_export", days=days, rows=len(rows))
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["day", "metric", "value"])
    for day, metric, value in rows:
        out.writerow([day.isoformat(), _cell(metric),
                      int(value) if float(value).is_integer() else value])
    response = web.Response(text=buf.getvalue(), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="parentline-stats-{now.date().isoformat()}.csv"')
    security_headers(response)
    return response
