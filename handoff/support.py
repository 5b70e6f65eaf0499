"""Support for the specialist: /consult, coordinator advice, and /report.

Advice goes from a coordinator to the specialist only — never to the parent. A report
decision is recorded as who, when and which conversation (never message text) and is
kept under legal hold: /forget and retention leave it alone.
"""

from __future__ import annotations

from core.context import Ctx
from core.storage.models import Conversation, ReportDecision, Staff
from flows.events import Button, CopyMessage, Inbound
from handoff import alerts, queries
from handoff import buttons as B
from handoff.speech import staff_lang, staff_say
from handoff.summary import summary_text


async def consult(ctx: Ctx, staff: Staff, conv: Conversation) -> None:
    """Bring in a coordinator (on duty if any) with the summary and a "help" button."""
    parent = await queries.parent_of(ctx.session, conv)

    def help_button(chat: int, lang: str) -> tuple[tuple[Button, ...], ...]:
        return ((ctx.text_button(chat, "staff.btn_help", lang, B.HELP, str(conv.id)),),)

    coords = [c for c in await queries.coordinators(ctx.session)
              if c.tg_user_id != staff.tg_user_id]
    if any(c.on_duty for c in coords):
        coords = [c for c in coords if c.on_duty]
    if not coords:
        staff_say(ctx, staff, "staff.no_coordinator")
        return
    for c in coords:
        lang = staff_lang(c)
        ctx.say(
            c.tg_user_id,
            "staff.consult_request",
            lang,
            buttons=help_button(c.tg_user_id, lang),
            name=staff.name,
            summary=summary_text(ctx, conv, parent, lang),
        )
    conv.consult_staff_id = coords[0].tg_user_id
    staff_say(ctx, staff, "staff.consult_sent")


async def start_advising(ctx: Ctx, coord: Staff, arg: str) -> None:
    """The coordinator pressed "help": their next messages go to the specialist only."""
    conv_id = B.to_int(arg)
    conv = await ctx.session.get(Conversation, conv_id) if conv_id is not None else None
    if conv is None or conv.specialist_id is None or conv.status != "active":
        staff_say(ctx, coord, "staff.conv_gone")
        return
    if coord.role != "coordinator":
        staff_say(ctx, coord, "staff.coordinators_only")
        return
    coord.awaiting = "advise"
    coord.awaiting_conv_id = conv.id
    conv.consult_staff_id = coord.tg_user_id
    specialist = await ctx.session.get(Staff, conv.specialist_id)
    lang, chat = staff_lang(coord), coord.tg_user_id
    ctx.say(
        chat,
        "staff.advise_start",
        lang,
        name=specialist.name if specialist else "",
        buttons=((ctx.text_button(chat, "staff.btn_advise_done", lang, B.ADVISE_DONE),),),
    )
    if specialist is not None:
        staff_say(ctx, specialist, "staff.coordinator_joined", name=coord.name)


async def advise(ctx: Ctx, coord: Staff, ev: Inbound) -> None:
    """Copy the coordinator's message to the specialist (private), never to the parent."""
    conv_id = coord.awaiting_conv_id
    conv = await ctx.session.get(Conversation, conv_id) if conv_id is not None else None
    if conv is None or conv.specialist_id is None or ev.message_id is None:
        coord.awaiting = None
        coord.awaiting_conv_id = None
        staff_say(ctx, coord, "staff.advise_ended")
        return
    specialist = await ctx.session.get(Staff, conv.specialist_id)
    if specialist is None:
        return
    staff_say(ctx, specialist, "staff.advice_from", name=coord.name)
    ctx.send(
        CopyMessage(
            chat_id=specialist.tg_user_id,
            from_chat_id=ev.chat_id,
            message_id=ev.message_id,
            meta={"advice": conv.id},
        )
    )


def stop_advising(ctx: Ctx, coord: Staff) -> None:
    coord.awaiting = None
    coord.awaiting_conv_id = None
    staff_say(ctx, coord, "staff.advise_ended")


async def report(ctx: Ctx, staff: Staff, conv: Conversation) -> None:
    """``/report``: a pending decision row, and a coordinator brought in with buttons."""
    parent = await queries.parent_of(ctx.session, conv)
    pseudonym = parent.pseudonym if parent else "?"
    row = ReportDecision(
        at=ctx.now,
        pseudonym=pseudonym,
        conversation_ref=conv.id,
        staff_id=staff.tg_user_id,
        coordinator_id=None,
        decision="pending",
    )
    ctx.session.add(row)
    await ctx.session.flush()
    await ctx.audit(
        f"staff:{staff.tg_user_id}",
        "report_opened",
        pseudonym=pseudonym,
        details={"conversation": conv.id, "report": row.id},
        legal_hold=True,
    )

    def decision_buttons(chat: int, lang: str) -> tuple[tuple[Button, ...], ...]:
        return (
            (
                ctx.text_button(chat, "staff.btn_report_made", lang, B.REPORT, f"{row.id}:made"),
                ctx.text_button(
                    chat, "staff.btn_report_not_made", lang, B.REPORT, f"{row.id}:not_made"
                ),
            ),
            (ctx.text_button(chat, "staff.btn_help", lang, B.HELP, str(conv.id)),),
        )

    told = await alerts.notify_coordinators(
        ctx,
        "staff.report_request",
        parent=parent,
        exclude=[staff.tg_user_id],
        buttons_for=decision_buttons,
        name=staff.name,
    )
    if told:
        row.coordinator_id = told[0].tg_user_id
    staff_say(ctx, staff, "staff.report_sent" if told else "staff.report_no_coordinator")


async def report_decision(ctx: Ctx, coord: Staff, arg: str) -> None:
    head, decision = B.split2(arg)
    rid = B.to_int(head)
    row = await ctx.session.get(ReportDecision, rid) if rid is not None else None
    if coord.role != "coordinator":
        staff_say(ctx, coord, "staff.coordinators_only")
        return
    if row is None or decision not in ("made", "not_made"):
        staff_say(ctx, coord, "staff.button_expired")
        return
    if row.decision != "pending":
        staff_say(ctx, coord, "staff.report_already_decided")
        return
    row.decision = decision
    row.decided_at = ctx.now
    row.coordinator_id = coord.tg_user_id
    await ctx.audit(
        f"staff:{coord.tg_user_id}",
        "report_decision",
        pseudonym=row.pseudonym,
        details={"report": row.id, "decision": decision, "conversation": row.conversation_ref},
        legal_hold=True,
    )
    staff_say(ctx, coord, "staff.report_recorded")
    specialist = await ctx.session.get(Staff, row.staff_id)
    if specialist is not None:
        staff_say(ctx, specialist, f"staff.report_{decision}", name=coord.name)
