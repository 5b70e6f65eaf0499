"""The roster on the dashboard: coordinators add, pause and remove staff, set caps and tags.

Only coordinators see this page or may post to it (the role is read from the roster on
every request). Every form carries a token bound to the session cookie
(``auth.form_token``). Each change is one transaction that also writes its audit entry
(ids and settings only: never a name or anything a parent wrote) and what the bot says
because of it — removing a specialist sends their parents back to the front of the
queue, told honestly (``handoff.removal``) — so the outbox sends it after the commit.
After a change the browser is sent back to the page (post/redirect/get) with a notice
chosen from a fixed list; a refused change re-renders the page with one sentence saying
why (autoescaped, like everything on the dashboard).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from sqlalchemy import func, select

from bot.telegram.outgoing import add_actions
from bot.web.dashboard.auth import COOKIE_NAME, form_token, form_token_ok
from bot.web.dashboard.templating import page, security_headers
from bot.web.dashboard.views import _base, _guard, _now, _rt, audit
from core.context import Ctx
from core.storage.models import STAFF_ROLES, Conversation, Staff
from handoff import roster
from handoff.removal import remove_from_roster, set_paused

T = TypeVar("T")

TG_ID_LIMIT = 2**53  # Telegram's user ids fit in 52 bits; anything longer is a typo

NOTICES = {
    "added": "Added to the roster. They can send /onduty to the bot to start.",
    "updated": "Saved.",
    "paused": "Paused: no new conversations for them; the ones they have stay.",
    "resumed": "Resumed: they take new conversations again.",
    "removed": "Removed. Their conversations went back to the front of the queue and "
               "the parents were told another peer is coming.",
}


@dataclass(frozen=True, slots=True)
class RosterRow:
    staff: Staff
    active: int


def _tags(request: web.Request) -> list[str]:
    """The experience tags of the content the line is running (content/experience.yaml),
    so the form offers what the flow, the card and the routing use."""
    return sorted(e.id for e in _rt(request).content.current.experiences)


async def _params(request: web.Request, me: Staff) -> dict[str, Any]:
    async with _rt(request).db.reports() as s:
        people = await roster.list_staff(s)
        loads = {sid: int(n) for sid, n in (await s.execute(
            select(Conversation.specialist_id, func.count())
            .where(Conversation.status == "active")
            .group_by(Conversation.specialist_id))).all()}
    cookie = request.cookies.get(COOKIE_NAME, "")
    return {
        **_base(me, "roster"),
        "rows": [RosterRow(p, loads.get(p.tg_user_id, 0)) for p in people],
        "tags": _tags(request),
        "roles": sorted(STAFF_ROLES),
        "cap_limit": roster.MAX_ACTIVE_LIMIT,
        "form_token": form_token(_rt(request).settings.secret, cookie),
        "notice": NOTICES.get(request.query.get("done", "")),
        "error": None,
    }


async def roster_page(request: web.Request) -> web.Response:
    me = await _guard(request, coordinator=True)
    if isinstance(me, web.Response):
        return me
    await audit(request, me, "dashboard_view", page="roster")
    return page("roster.html.j2", **await _params(request, me))


async def _posted(request: web.Request) -> tuple[Staff, MultiDictProxy[str]] | web.Response:
    """The coordinator and the form, or the refusal (signed out, not a coordinator, or
    a form that did not come from their own page)."""
    me = await _guard(request, coordinator=True)
    if isinstance(me, web.Response):
        return me
    form = await request.post()
    sent = form.get("form_token")
    if not form_token_ok(_rt(request).settings.secret, request.cookies.get(COOKIE_NAME),
                         sent if isinstance(sent, str) else None):
        return page("form_expired.html.j2", status=403, **_base(me, "roster"))
    # Text fields only: a file upload where text belongs is simply not there.
    return me, MultiDictProxy(MultiDict((k, v) for k, v in form.items() if isinstance(v, str)))


def _int(form: MultiDictProxy[str], name: str, what: str) -> int:
    try:
        return int(form.get(name, "").strip())
    except ValueError:
        raise roster.RosterError(f"{what} should be a whole number") from None


def _dashboard_words(exc: roster.RosterError) -> str:
    """The roster's errors name CLI flags; say the form's field names instead."""
    return (str(exc).replace("--max-active", "Cap").replace("--name", "Name"))


async def _change(request: web.Request, me: Staff,
                  fn: Callable[[Ctx], Awaitable[T]]) -> T:
    """Run ``fn`` in one transaction with a Ctx; queue what it says; wake the sender."""
    rt = _rt(request)
    now = _now()
    async with rt.db.tx() as s:
        ctx = Ctx(session=s, now=now, settings=rt.settings, content=rt.content.current)
        result = await fn(ctx)
        await add_actions(s, ctx.actions, now)
    rt.sender.wake.set()
    return result


async def _failed(request: web.Request, me: Staff, message: str) -> web.Response:
    params = await _params(request, me)
    params["error"] = message
    return page("roster.html.j2", status=400, **params)


def _done(what: str) -> NoReturn:
    response = web.HTTPSeeOther(f"/dashboard/roster?done={what}")
    security_headers(response)
    raise response


def _audit(ctx: Ctx, me: Staff, action: str, **details: Any) -> Awaitable[None]:
    return ctx.audit(f"staff:{me.tg_user_id}", action, details=details)


async def add(request: web.Request) -> web.Response:
    got = await _posted(request)
    if isinstance(got, web.Response):
        return got
    me, form = got
    try:
        tg_id = _int(form, "tg_user_id", "Telegram user id")
        cap = _int(form, "max_active", "Cap")
        if not 0 < tg_id < TG_ID_LIMIT:
            raise roster.RosterError("Telegram user id should be the number Telegram shows "
                                     "for that account")
        role = form.get("role", "specialist")
        languages = form.get("languages", "").split(",")
        experience = form.getall("experience", [])

        async def do(ctx: Ctx) -> None:
            if await ctx.session.get(Staff, tg_id) is not None:
                raise roster.RosterError("That Telegram user id is already on the roster")
            staff = await roster.add_staff(ctx.session, tg_id, form.get("name", ""), role,
                                           languages, cap, experience, ctx.now,
                                           known_experience=_tags(request))
            await _audit(ctx, me, "roster_add", staff=tg_id, role=staff.role,
                         languages=staff.languages, max_active=staff.max_active,
                         experience=staff.experience)

        await _change(request, me, do)
    except roster.RosterError as exc:
        return await _failed(request, me, _dashboard_words(exc))
    return _done("added")


async def _target(form: MultiDictProxy[str], ctx: Ctx) -> Staff:
    try:
        staff_id = int(form.get("staff", ""))
    except ValueError:
        staff_id = 0
    staff = await ctx.session.get(Staff, staff_id) if staff_id else None
    if staff is None:
        raise roster.RosterError("That person is no longer on the roster")
    return staff


async def update(request: web.Request) -> web.Response:
    got = await _posted(request)
    if isinstance(got, web.Response):
        return got
    me, form = got
    try:
        cap = _int(form, "max_active", "Cap")
        experience = form.getall("experience", [])

        async def do(ctx: Ctx) -> None:
            staff = await _target(form, ctx)
            await roster.set_cap_and_experience(ctx.session, staff, cap, experience,
                                                known_experience=_tags(request))
            await _audit(ctx, me, "roster_update", staff=staff.tg_user_id,
                         max_active=staff.max_active, experience=staff.experience)

        await _change(request, me, do)
    except roster.RosterError as exc:
        return await _failed(request, me, _dashboard_words(exc))
    return _done("updated")


async def pause(request: web.Request) -> web.Response:
    got = await _posted(request)
    if isinstance(got, web.Response):
        return got
    me, form = got
    paused = form.get("paused") == "1"
    try:
        async def do(ctx: Ctx) -> None:
            staff = await _target(form, ctx)
            if not set_paused(ctx, staff, paused):
                raise roster.RosterError(
                    "Only someone on duty can be paused or resumed"
                    if not staff.on_duty else "Nothing to change")
            await _audit(ctx, me, "roster_pause" if paused else "roster_resume",
                         staff=staff.tg_user_id)

        await _change(request, me, do)
    except roster.RosterError as exc:
        return await _failed(request, me, str(exc))
    return _done("paused" if paused else "resumed")


async def remove(request: web.Request) -> web.Response:
    got = await _posted(request)
    if isinstance(got, web.Response):
        return got
    me, form = got
    try:
        if form.get("confirm") != "yes":
            raise roster.RosterError("Tick the box to confirm the removal")

        async def do(ctx: Ctx) -> None:
            staff = await _target(form, ctx)
            if staff.tg_user_id == me.tg_user_id:
                raise roster.RosterError(
                    "You can't remove yourself; ask another coordinator (or use the CLI)")
            was = staff.role
            staff_id = staff.tg_user_id
            requeued = await remove_from_roster(ctx, staff)
            await _audit(ctx, me, "roster_remove", staff=staff_id, role=was,
                         requeued=requeued)

        await _change(request, me, do)
    except roster.RosterError as exc:
        return await _failed(request, me, str(exc))
    return _done("removed")


__all__ = ["add", "pause", "remove", "roster_page", "update"]
