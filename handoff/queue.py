"""The queue: asking for a person, where you are in line, leaving it, after hours.

Positions are never stored as numbers that could drift: they are computed from the
queued rows each time (crisis first, then parents sent back to the front, then the
longest wait), and a parent only hears an update when it means something.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.context import Ctx
from core.storage.models import Conversation, Parent
from handoff import buttons as B
from handoff import queries
from handoff.policy import (
    can_take,
    has_experience,
    meaningful_change,
    order_queue,
    speaks,
    wait_estimate,
)

STALE_JOB = "h.stale"
# What a waiting parent writes reaches the peer in the summary (split into as many
# messages as Telegram needs): room for four full-length Telegram messages (4 x 4096), so a
# parent's long message is never cut, while a parent who writes for hours cannot make the
# summary endless.
NOTE_MAX = 4 * 4096


async def _places(ctx: Ctx, queued: list[Conversation] | None = None
                  ) -> dict[int, tuple[int, int | None]]:
    """(position, rough minutes) of every queued conversation: one read of the queue and
    one of the roster, however long the queue."""
    if queued is None:
        queued = list(await queries.queued(ctx.session))
    ordered = order_queue(queries.queue_view(c) for c in queued)
    duty = [s for s in await queries.duty_views(ctx.session) if not s.paused]
    free = sum(max(0, s.max_active - s.active) for s in duty)
    return {c.id: (pos, wait_estimate(pos, free, len(duty)))
            for pos, c in enumerate(ordered, start=1)}


async def _place(ctx: Ctx, conv: Conversation) -> tuple[int, int | None]:
    """(position, rough minutes) of a queued conversation."""
    places = await _places(ctx)
    return places.get(conv.id) or max(places.values(), default=(0, None))


async def tell_position(ctx: Ctx, parent: Parent, conv: Conversation, key: str) -> None:
    """Say where the parent is and roughly how long; remember what we told them."""
    pos, wait = await _place(ctx, conv)
    leave = ctx.text_button(parent.chat_id, "handoff.btn_leave", parent.lang, B.LEAVE, str(conv.id))
    ctx.say(
        parent.chat_id,
        key,
        parent.lang,
        buttons=((leave,),),
        position=pos,
        minutes=wait if wait is not None else "?",
    )
    conv.last_position_told = pos
    conv.last_wait_told = wait


async def refresh_positions(ctx: Ctx) -> None:
    """After the queue moved, tell waiting parents whose place changed meaningfully."""
    queued = list(await queries.queued(ctx.session))
    places = await _places(ctx, queued)
    for conv in queued:
        if conv.after_hours or conv.last_position_told is None:
            continue
        pos, wait = places[conv.id]
        if not meaningful_change(conv.last_position_told, pos, conv.last_wait_told, wait):
            continue
        parent = await queries.parent_of(ctx.session, conv)
        if parent is None or parent.unreachable:
            continue
        key = "handoff.position_next" if pos == 1 else "handoff.position_update"
        ctx.say(parent.chat_id, key, parent.lang, position=pos, minutes=wait if wait else "?")
        conv.last_position_told = pos
        conv.last_wait_told = wait


@dataclass(frozen=True, slots=True)
class Card:
    """What the parent kept on their handoff card: the topic (None: taken out or never
    named) and whether their region is on it. The line is the request's ``note``."""

    topic: str | None
    region: bool


def _initial_resources(parent: Parent) -> list[str]:
    data = parent.flow_data or {}
    raw = data.get("resources_shared") or data.get("resources") or []
    return [str(r) for r in raw if isinstance(r, str)] if isinstance(raw, list) else []


async def enqueue(
    ctx: Ctx,
    parent: Parent,
    *,
    priority: str,
    crisis_category: str | None,
    experience: str | None,
    note: str | None,
    chosen: bool = False,
    card: Card | None = None,
) -> tuple[Conversation, bool]:
    """The parent's open conversation (raised to crisis if asked), or a new queue entry.

    ``experience`` must be a tag of ``content/experience.yaml``; a topic id is mapped to
    its default tag, and without one the parent's topic gives the default (a soft
    preference). ``chosen``: the parent asked for it and waits for such a peer.
    ``card``: what the parent chose to share on their handoff card; the entry then holds
    that and nothing else from their chat with the bot (``note`` is the card's line).
    """
    crisis = priority == "crisis"
    conv = await queries.open_conversation_of(ctx.session, parent.id)
    if conv is not None:
        if crisis:
            conv.priority = "crisis"
            conv.crisis = True
            conv.crisis_category = crisis_category or conv.crisis_category
        if note:
            _add_note(conv, note)
        return conv, False
    topic = card.topic if card is not None else (parent.flow_data or {}).get("topic")
    tag = experience_tag(ctx, experience, str(topic) if topic else None)
    line = note[:NOTE_MAX] if note else None
    conv = Conversation(
        parent_id=parent.id,
        status="queued",
        priority="crisis" if crisis else "normal",
        crisis=crisis,
        crisis_category=crisis_category,
        lang=parent.lang or "en",
        topic=str(topic)[:40] if topic else None,
        requested_experience=tag,
        experience_only=bool(chosen and tag and tag == experience),
        preferred_staff_id=parent.last_staff_id,
        queued_at=ctx.now,
        waiting_note=None if card is not None else line,
        from_card=card is not None,
        card_line=line if card is not None else None,
        region_shared=card.region if card is not None else True,
        resources_shared=[] if card is not None else _initial_resources(parent),
        handoff_notes=[],
        declined_by=[],
        any_language_ok=False,
        after_hours=False,
        heavy=False,
        front_of_queue=False,
        note_acked=bool(note) and card is None,  # "I'll pass it on" is for later words
    )
    ctx.session.add(conv)
    await ctx.session.flush()
    await ctx.bump("conversations_requested")
    return conv, True


def experience_tag(ctx: Ctx, experience: str | None, topic: str | None) -> str | None:
    """A known experience tag: the one asked for, a topic id's default, or the topic's."""
    if experience and ctx.content.experience(experience) is not None:
        return experience
    for topic_id in (experience, topic):
        default = ctx.content.experience_for_topic(topic_id)
        if default is not None:
            return default.id
    return None


def experience_text(ctx: Ctx, conv: Conversation, lang: str) -> str:
    """For staff: what the parent asked for, or what their topic suggests ("" if nothing)."""
    if not conv.requested_experience:
        return ""
    key = "staff.experience_chosen" if conv.experience_only else "staff.experience_suggested"
    return ctx.text(key, lang, label=ctx.content.experience_label(conv.requested_experience, lang))


def _add_note(conv: Conversation, text: str) -> None:
    joined = f"{conv.waiting_note}\n{text}" if conv.waiting_note else text
    conv.waiting_note = joined[:NOTE_MAX]


def crisis_lines(ctx: Ctx, lang: str) -> str:
    """The 24/7 crisis lines alone, no crisis script (the safety module owns which)."""
    from flows.safety.response import crisis_lines as lines

    return lines(lang, ctx.content, ctx.now)


def open_resources(ctx: Ctx, parent: Parent, conv: Conversation, limit: int = 3) -> list[str]:
    """A few resources for the parent's topic and region, rendered (hours always shown)."""
    from flows.content import Region

    topic = ctx.content.topic(conv.topic) if conv.topic else None
    region = Region(parent.region_zip, parent.region_state, parent.region_county)
    found = ctx.content.resources_for_topic(
        topic, region=region, lang=parent.lang, now=ctx.now, demo=ctx.settings.demo
    )
    return [ctx.content.render_resource(r, parent.lang, ctx.now, short=True) for r in found[:limit]]


def opening_text(ctx: Ctx, lang: str) -> str:
    """When the line next opens, in the line's own time zone, with a weekday from content."""
    nxt = ctx.content.hours.next_open(ctx.now)
    if nxt is None or nxt <= ctx.now:
        return ctx.text("handoff.opens_unknown", lang)
    days = ctx.content.text_list("handoff.weekdays", lang)
    day = days[nxt.weekday()] if len(days) == 7 else ""
    return ctx.text("handoff.opens_at", lang, day=day, time=nxt.strftime("%H:%M"))


async def tell_nobody_on_duty(ctx: Ctx, parent: Parent, conv: Conversation) -> None:
    """Honest after-hours answer: nobody is here now; crisis lines; leave a message."""
    lang = parent.lang
    conv.after_hours = True
    # Nobody is here to honour a wish now: it stays a preference for whoever comes first.
    conv.experience_only = False
    await ctx.bump("after_hours_messages")
    key = "handoff.closed" if not ctx.content.hours.is_open(ctx.now) else "handoff.nobody_on_duty"
    when = opening_text(ctx, lang)
    if conv.crisis:
        ctx.say(parent.chat_id, "handoff.crisis_nobody", lang)
    else:
        ctx.say(parent.chat_id, key, lang, opens=when)
        lines = crisis_lines(ctx, lang)
        res = open_resources(ctx, parent, conv)
        ctx.say(
            parent.chat_id,
            "handoff.after_hours_help",
            lang,
            crisis_lines=lines,
            resources="\n\n".join(res) if res else ctx.text("handoff.no_resources", lang),
        )
    leave = ctx.text_button(parent.chat_id, "handoff.btn_leave", lang, B.LEAVE, str(conv.id))
    ctx.say(parent.chat_id, "handoff.leave_message", lang, buttons=((leave,),))


async def ask_language_choice(ctx: Ctx, parent: Parent, conv: Conversation) -> bool:
    """If nobody on duty speaks the parent's language, let them choose; True if asked."""
    duty = [s for s in await queries.duty_views(ctx.session) if not s.paused]
    if conv.any_language_ok or any(speaks(s, conv.lang) for s in duty):
        return False
    lang, chat = parent.lang, parent.chat_id
    ctx.say(
        chat,
        "handoff.no_language_peer",
        lang,
        buttons=(
            (ctx.text_button(chat, "handoff.btn_wait_language", lang, B.WAIT_LANG, str(conv.id)),),
            (ctx.text_button(chat, "handoff.btn_go_ahead", lang, B.GO_AHEAD, str(conv.id)),),
        ),
    )
    return True


async def ask_experience_choice(ctx: Ctx, parent: Parent, conv: Conversation) -> bool:
    """A parent who asked for a peer with a lived experience hears honestly whether one
    is on duty; if none is, they choose: wait for one, or the next peer. True if asked."""
    if not conv.experience_only or not conv.requested_experience:
        return False
    lang, chat = parent.lang, parent.chat_id
    label = ctx.content.experience_label(conv.requested_experience, lang)
    duty = [s for s in await queries.duty_views(ctx.session) if not s.paused]
    if any(has_experience(s, conv.requested_experience) for s in duty):
        ctx.say(chat, "handoff.experience_on_duty", lang, experience=label)
        return False
    ctx.say(
        chat,
        "handoff.no_experience_peer",
        lang,
        experience=label,
        buttons=(
            (ctx.text_button(chat, "handoff.btn_wait_experience", lang, B.WAIT_EXPERIENCE,
                             str(conv.id)),),
            (ctx.text_button(chat, "handoff.btn_next_peer", lang, B.NEXT_PEER, str(conv.id)),),
        ),
    )
    return True


async def schedule_stale(ctx: Ctx, parent: Parent, conv: Conversation) -> None:
    await ctx.cancel_jobs(kind=STALE_JOB, parent_id=parent.id)
    await ctx.schedule(
        STALE_JOB,
        ctx.now + timedelta(minutes=ctx.settings.queue_stale_minutes),
        chat_id=parent.chat_id,
        parent_id=parent.id,
        payload={"conv": conv.id},
    )


async def anyone_can_take(ctx: Ctx) -> bool:
    return any(can_take(s) for s in await queries.duty_views(ctx.session))


async def leave_queue(ctx: Ctx, parent: Parent, conv: Conversation) -> None:
    """The parent left the queue (/stop or the button): no guilt, the door stays open."""
    if conv.status != "queued":
        return
    conv.status = "ended"
    conv.ended_at = ctx.now
    conv.ended_by = "parent_left_queue"
    await ctx.cancel_jobs(kind=STALE_JOB, parent_id=parent.id)
    ctx.say(parent.chat_id, "handoff.left_queue", parent.lang)
    await refresh_positions(ctx)


def add_waiting_note(ctx: Ctx, parent: Parent, conv: Conversation, text: str) -> None:
    """Keep what the parent wants the peer to know; acknowledge it gently, once."""
    _add_note(conv, text)
    if not conv.note_acked:
        conv.note_acked = True
        ctx.say(parent.chat_id, "handoff.note_kept", parent.lang)
