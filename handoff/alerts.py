"""Telling staff that someone is waiting: private alerts, the staff chat, coordinators.

Alerts go to each specialist's private chat (with a Take button), because a group
chat is seen by more people than need to know. A specialist's chat has at most one
"someone is waiting" alert on its way at a time: Telegram lets a bot send about one
message a second into a chat, so when many parents ask at once, one alert per parent
would queue a minute of alerts in front of the messages of the parents that specialist
is already talking with. The rest of the queue is one ``/queue`` away, and the next
alert goes once the previous one is delivered. Crisis alerts and offers always go.

The staff chat gets a low-volume line with the pseudonym, category and language only —
never the parent's words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from core.context import Ctx
from core.storage.models import Conversation, Parent, Staff
from flows.events import Button, SendText
from handoff import buttons as B
from handoff import queries
from handoff.policy import best_specialist
from handoff.queue import experience_text
from handoff.speech import parent_label, staff_lang

STAFF_CHAT_LANG = "en"


def _category(ctx: Ctx, conv: Conversation, lang: str) -> str:
    if conv.crisis_category:
        return conv.crisis_category
    if conv.topic:
        topic = ctx.content.topic(conv.topic)  # its title in the specialist's language
        return (topic.title.get(lang) or topic.title.get("en") or conv.topic) if topic \
            else conv.topic
    return ctx.text("staff.summary_none", lang)


def _wait_minutes(ctx: Ctx, conv: Conversation) -> int:
    return max(0, int((ctx.now - conv.queued_at).total_seconds() // 60))


WAITING_ALERT = "waiting"  # outbox meta {"alert": ...} of a non-crisis waiting alert
CRISIS_ALERT = "crisis"  # outbox meta {"alert": ..., "conv": id}: edited once it's taken
OFFER_JOB = "h.offer"  # push mode: the offer expires (handoff.waiting.offer_expired)


def alert_one(ctx: Ctx, staff: Staff, conv: Conversation, parent: Parent | None) -> None:
    """One private alert with a Take button (and "not a good fit" in push mode)."""
    lang = staff_lang(staff)
    chat = staff.tg_user_id
    key = "staff.alert_crisis" if conv.priority == "crisis" else "staff.alert_new"
    row = [ctx.text_button(chat, "staff.btn_take", lang, B.TAKE, str(conv.id))]
    if conv.offered_staff_id == staff.tg_user_id:
        key = "staff.offer_crisis" if conv.priority == "crisis" else "staff.offer"
        row.append(ctx.text_button(chat, "staff.btn_not_fit", lang, B.DECLINE, str(conv.id)))
    meta: dict[str, Any] | None = None
    if key == "staff.alert_new":
        meta = {"alert": WAITING_ALERT}
    elif conv.priority == "crisis":
        meta = {"alert": CRISIS_ALERT, "conv": conv.id}
    ctx.say(
        chat,
        key,
        lang,
        buttons=(tuple(row),),
        meta=meta,
        who=parent_label(ctx, parent, lang),
        category=_category(ctx, conv, lang),
        language=conv.lang,
        minutes=_wait_minutes(ctx, conv),
        experience=_experience(ctx, conv, lang),
    )


def _experience(ctx: Ctx, conv: Conversation, lang: str) -> str:
    """" They asked for a peer who has been through …" (a sentence after the alert)."""
    text = experience_text(ctx, conv, lang)
    return f" {text}" if text else ""


def staff_chat(ctx: Ctx, key: str, conv: Conversation, parent: Parent | None) -> None:
    """A low-volume line in the staff group chat, if one is configured."""
    chat_id = ctx.settings.staff_chat_id
    if chat_id is None:
        return
    lang = STAFF_CHAT_LANG
    ctx.say(
        chat_id,
        key,
        lang,
        who=parent_label(ctx, parent, lang),
        category=_category(ctx, conv, lang),
        language=conv.lang,
    )


async def alert_waiting(
    ctx: Ctx,
    conv: Conversation,
    parent: Parent | None,
    *,
    exclude: Iterable[int] = (),
    offer: bool = True,
    tried: Iterable[int] = (),
) -> int:
    """Tell the right on-duty specialists that ``conv`` waits; returns how many were told.

    In push mode the least-loaded fitting specialist gets an offer first, which expires
    after ``offer_expire_minutes`` and moves on (``tried``: who had it already); if
    nobody fits, everyone on duty is alerted as in pull mode, so nobody waits unseen.
    A crisis is never an offer to one person: everyone on duty gets it at once, and the
    first to take it wins.
    """
    skip = set(exclude) | set(conv.declined_by or [])
    duty = [s for s in await queries.on_duty(ctx.session) if s.tg_user_id not in skip]
    crisis = conv.priority == "crisis"
    if conv.experience_only and not crisis:
        # The parent waits for a peer who lived it: only such peers hear (none may be on).
        duty = [s for s in duty if conv.requested_experience in (s.experience or [])]
    if crisis:
        conv.offered_staff_id = None
    elif offer and ctx.settings.assignment_mode == "push" and conv.status == "queued":
        counts = await queries.loads(ctx.session, [s.tg_user_id for s in duty])
        views = [queries.staff_view(s, counts[s.tg_user_id]) for s in duty]
        best = best_specialist(queries.queue_view(conv), views)
        if best is not None:
            conv.offered_staff_id = best.id
            chosen = next(s for s in duty if s.tg_user_id == best.id)
            alert_one(ctx, chosen, conv, parent)
            await _offer_expires(ctx, conv, parent, best.id, tried)
            return 1
    told = 0
    on_the_way = set() if crisis else await _waiting_alert_on_its_way(ctx, duty)
    for s in duty:
        if s.paused and not crisis:
            continue
        if s.tg_user_id not in on_the_way:
            alert_one(ctx, s, conv, parent)
        told += 1
    return told


async def _offer_expires(ctx: Ctx, conv: Conversation, parent: Parent | None, staff_id: int,
                         tried: Iterable[int]) -> None:
    """One live offer per conversation: it moves on if not taken in time."""
    await ctx.cancel_jobs(kind=OFFER_JOB, parent_id=conv.parent_id)
    await ctx.schedule(
        OFFER_JOB,
        ctx.now + timedelta(minutes=ctx.settings.offer_expire_minutes),
        chat_id=parent.chat_id if parent is not None else None,
        parent_id=conv.parent_id,
        payload={"conv": conv.id, "staff": staff_id, "tried": sorted(set(tried))},
    )


async def crisis_alerts(ctx: Ctx, conv: Conversation, parent: Parent | None, *,
                        exclude: Iterable[int] = ()) -> None:
    """Every on-duty specialist (Take button), the staff chat; coordinators if nobody is on."""
    told = await alert_waiting(ctx, conv, parent, exclude=exclude)
    staff_chat(ctx, "staff.chat_crisis", conv, parent)
    if told == 0:
        await notify_coordinators(
            ctx,
            "staff.crisis_nobody_on_duty",
            parent=parent,
            exclude=exclude,
            on_duty_first=False,
            category=conv.crisis_category or "?",
        )


async def _waiting_alert_on_its_way(ctx: Ctx, duty: list[Staff]) -> set[int]:
    """Specialists whose chat already has an undelivered "someone is waiting" alert."""
    chats = {s.tg_user_id for s in duty}
    found = {
        a.chat_id
        for a in (*ctx.earlier, *ctx.actions)
        if isinstance(a, SendText) and a.chat_id in chats and a.meta.get("alert") == WAITING_ALERT
    }
    return found | await queries.waiting_alerts_pending(ctx.session, chats - found, WAITING_ALERT)


ButtonsFor = Callable[[int, str], tuple[tuple[Button, ...], ...]]


async def notify_coordinators(
    ctx: Ctx,
    key: str,
    *,
    parent: Parent | None = None,
    exclude: Iterable[int] = (),
    on_duty_first: bool = True,
    buttons_for: ButtonsFor | None = None,
    texts: dict[str, str] | None = None,
    **params: Any,
) -> list[Staff]:
    """Tell coordinators (the on-duty ones if any, else all); returns who was told.

    ``who`` and ``texts`` (param -> text key) are rendered in each coordinator's
    language; ``buttons_for(chat, lang)``
    builds buttons signed for each coordinator's own chat.
    """
    skip = set(exclude)
    coords = [c for c in await queries.coordinators(ctx.session) if c.tg_user_id not in skip]
    if on_duty_first and any(c.on_duty for c in coords):
        coords = [c for c in coords if c.on_duty]
    for c in coords:
        lang = staff_lang(c)
        extra: dict[str, Any] = {}
        if parent is not None:
            extra["who"] = parent_label(ctx, parent, lang)
        for name, text_key in (texts or {}).items():
            extra[name] = ctx.text(text_key, lang)
        ctx.say(
            c.tg_user_id,
            key,
            lang,
            buttons=buttons_for(c.tg_user_id, lang) if buttons_for else (),
            **extra,
            **params,
        )
    return coords
