"""Ending a conversation well, for both sides.

The parent gets a short thank-you, the resources from the conversation and an
optional two-question survey. The specialist records a category and a short note
with no identifying details, and is offered a debrief after a heavy conversation and
always after a crisis — where they are first asked how it ended, and coordinators told.
"""

from __future__ import annotations

from core.context import Ctx
from core.storage.models import Conversation, Parent, Staff
from flows.events import Button
from handoff import alerts, queries, queue
from handoff import buttons as B
from handoff.relay import QUIET_JOB
from handoff.speech import parent_label, staff_lang, staff_say

# who ended it -> what the specialist is told
_STAFF_TOLD = {
    "parent": "staff.ended_by_parent",
    "specialist": "staff.ended_by_you",
    "unreachable": "staff.parent_unreachable_ended",
    "forget": "staff.parent_forgot",
    "timeout": "staff.ended_by_you",
}
NOTE_MAX = 500


def _category_labels(ctx: Ctx, lang: str) -> list[str]:
    return ctx.content.text_list("staff.end_categories", lang)


async def end(ctx: Ctx, conv: Conversation, by: str) -> None:
    """End ``conv`` (queued or active); both sides hear what fits how it ended."""
    if conv.status == "ended":
        return
    was_active = conv.status == "active"
    conv.status = "ended"
    conv.ended_at = ctx.now
    conv.ended_by = by
    parent = await queries.parent_of(ctx.session, conv)
    if parent is not None:
        await ctx.cancel_jobs(kind=QUIET_JOB, parent_id=parent.id)
        await ctx.cancel_jobs(kind=queue.STALE_JOB, parent_id=parent.id)
    await ctx.bump("ended")
    if parent is not None and by in ("parent", "specialist", "timeout") and not parent.unreachable:
        thank_parent(ctx, parent, conv)
    staff = await ctx.session.get(Staff, conv.specialist_id) if conv.specialist_id else None
    if staff is not None and was_active:
        staff_say(
            ctx,
            staff,
            _STAFF_TOLD.get(by, "staff.ended_by_you"),
            who=parent_label(ctx, parent, staff_lang(staff)),
        )
        ask_wrap_up(ctx, staff, conv)
    if not was_active:
        await queue.refresh_positions(ctx)


def thank_parent(ctx: Ctx, parent: Parent, conv: Conversation) -> None:
    lang, chat = parent.lang, parent.chat_id
    ctx.say(chat, "handoff.ended_thanks", lang)
    rendered = []
    for rid in conv.resources_shared or []:
        res = ctx.content.resource(rid)
        if res is not None:
            rendered.append(ctx.content.render_resource(res, lang, ctx.now, short=True))
    if rendered:
        ctx.say(chat, "handoff.ended_resources", lang, resources="\n\n".join(rendered))
    ctx.say(chat, "handoff.survey_heard", lang, buttons=_scale(ctx, parent, conv, B.SURVEY_HEARD))


def _scale(
    ctx: Ctx, parent: Parent, conv: Conversation, action: str
) -> tuple[tuple[Button, ...], ...]:
    chat, lang = parent.chat_id, parent.lang
    row = tuple(ctx.button(chat, str(n), action, f"{conv.id}:{n}") for n in range(1, 6))
    skip = ctx.text_button(chat, "handoff.btn_survey_skip", lang, B.SURVEY_SKIP, str(conv.id))
    return (row, (skip,))


async def survey_answer(ctx: Ctx, parent: Parent, action: str, arg: str) -> None:
    """One survey answer (1–5); the first question leads to the second."""
    head, tail = B.split2(arg)
    conv_id, value = B.to_int(head), B.to_int(tail)
    conv = await ctx.session.get(Conversation, conv_id) if conv_id is not None else None
    if (
        conv is None
        or conv.parent_id != parent.id
        or conv.status != "ended"
        or value is None
        or not 1 <= value <= 5
    ):
        ctx.say(parent.chat_id, "handoff.button_expired", parent.lang)
        return
    if action == B.SURVEY_HEARD:
        first = conv.survey_heard is None
        conv.survey_heard = value
        if first:
            ctx.say(
                parent.chat_id,
                "handoff.survey_helpful",
                parent.lang,
                buttons=_scale(ctx, parent, conv, B.SURVEY_HELPFUL),
            )
        return
    first = conv.survey_helpful is None
    conv.survey_helpful = value
    if first:
        await ctx.bump("surveys")
        ctx.say(parent.chat_id, "handoff.survey_thanks", parent.lang)


def survey_skip(ctx: Ctx, parent: Parent) -> None:
    ctx.say(parent.chat_id, "handoff.survey_skipped", parent.lang)


# --- the specialist's wrap-up ----------------------------------------------------------------


def ask_wrap_up(ctx: Ctx, staff: Staff, conv: Conversation) -> None:
    """Crisis: how did it end? Otherwise straight to the category."""
    lang, chat = staff_lang(staff), staff.tg_user_id
    if conv.crisis and conv.end_outcome is None:
        rows = tuple(
            (ctx.text_button(chat, f"staff.btn_outcome_{o}", lang, B.OUTCOME, f"{conv.id}:{o}"),)
            for o in B.OUTCOMES
        )
        ctx.say(chat, "staff.ask_outcome", lang, buttons=rows)
        return
    ask_category(ctx, staff, conv)


def ask_category(ctx: Ctx, staff: Staff, conv: Conversation) -> None:
    lang, chat = staff_lang(staff), staff.tg_user_id
    rows = [
        (ctx.button(chat, label, B.CATEGORY, f"{conv.id}:{i}"),)
        for i, label in enumerate(_category_labels(ctx, lang))
    ]
    rows.append((ctx.text_button(chat, "staff.btn_heavy", lang, B.HEAVY, str(conv.id)),))
    ctx.say(chat, "staff.ask_category", lang, buttons=tuple(rows))


async def _own_ended(ctx: Ctx, staff: Staff, conv_id: int | None) -> Conversation | None:
    conv = await ctx.session.get(Conversation, conv_id) if conv_id is not None else None
    if conv is None or conv.specialist_id != staff.tg_user_id or conv.status != "ended":
        staff_say(ctx, staff, "staff.button_expired")
        return None
    return conv


async def outcome(ctx: Ctx, staff: Staff, arg: str) -> None:
    """How a crisis conversation ended; coordinators are told, then the category."""
    head, value = B.split2(arg)
    conv = await _own_ended(ctx, staff, B.to_int(head))
    if conv is None or value not in B.OUTCOMES:
        return
    conv.end_outcome = value
    parent = await queries.parent_of(ctx.session, conv)
    await ctx.audit(
        f"staff:{staff.tg_user_id}",
        "crisis_ended",
        pseudonym=parent.pseudonym if parent else None,
        category=conv.crisis_category,
        details={"conversation": conv.id, "outcome": value},
    )
    await alerts.notify_coordinators(
        ctx,
        "staff.crisis_ended_coord",
        parent=parent,
        exclude=[staff.tg_user_id],
        on_duty_first=False,
        name=staff.name,
        texts={"outcome": f"staff.btn_outcome_{value}"},
    )
    staff_say(ctx, staff, "staff.outcome_thanks")
    ask_category(ctx, staff, conv)


async def category(ctx: Ctx, staff: Staff, arg: str) -> None:
    """A category chosen (stored in English for the dashboard); then the short note."""
    head, tail = B.split2(arg)
    conv = await _own_ended(ctx, staff, B.to_int(head))
    idx = B.to_int(tail)
    labels = _category_labels(ctx, "en")
    if conv is None or idx is None or not 0 <= idx < len(labels):
        return
    conv.specialist_category = labels[idx][:40]
    staff.awaiting = "note"
    staff.awaiting_conv_id = conv.id
    chat, lang = staff.tg_user_id, staff_lang(staff)
    ctx.say(
        chat,
        "staff.ask_note",
        lang,
        buttons=((ctx.text_button(chat, "staff.btn_skip_note", lang, B.NOTE_SKIP, str(conv.id)),),),
    )


async def heavy(ctx: Ctx, staff: Staff, arg: str) -> None:
    conv = await _own_ended(ctx, staff, B.to_int(arg))
    if conv is None:
        return
    conv.heavy = True
    staff_say(ctx, staff, "staff.heavy_marked")


async def note(ctx: Ctx, staff: Staff, text: str | None) -> None:
    """The specialist's closing note (their next plain message after the prompt)."""
    conv = await _own_ended(ctx, staff, staff.awaiting_conv_id)
    staff.awaiting = None
    staff.awaiting_conv_id = None
    if conv is None:
        return
    if text:
        conv.specialist_note = text[:NOTE_MAX]
    staff_say(ctx, staff, "staff.note_saved" if text else "staff.note_skipped")
    offer_debrief(ctx, staff, conv)


async def skip_note(ctx: Ctx, staff: Staff, arg: str) -> None:
    if staff.awaiting == "note" and staff.awaiting_conv_id == B.to_int(arg):
        await note(ctx, staff, None)
    else:
        staff_say(ctx, staff, "staff.button_expired")


def offer_debrief(ctx: Ctx, staff: Staff, conv: Conversation) -> None:
    if not (conv.heavy or conv.crisis):
        return
    lang, chat = staff_lang(staff), staff.tg_user_id
    ctx.say(
        chat,
        "staff.offer_debrief",
        lang,
        buttons=(
            (
                ctx.text_button(chat, "staff.btn_debrief_yes", lang, B.DEBRIEF, f"{conv.id}:y"),
                ctx.text_button(chat, "staff.btn_debrief_no", lang, B.DEBRIEF, f"{conv.id}:n"),
            ),
        ),
    )


async def debrief(ctx: Ctx, staff: Staff, arg: str) -> None:
    head, answer = B.split2(arg)
    conv = await _own_ended(ctx, staff, B.to_int(head))
    if conv is None:
        return
    if answer != "y":
        staff_say(ctx, staff, "staff.debrief_declined")
        return
    told = await alerts.notify_coordinators(
        ctx, "staff.debrief_request", exclude=[staff.tg_user_id], name=staff.name
    )
    staff_say(ctx, staff, "staff.debrief_sent" if told else "staff.no_coordinator")
