"""The summary a specialist reads before saying hello.

It gathers what the parent already told the line so they never have to repeat it:
who (pseudonym or chosen name), language, region, topic, the lived experience they
asked for (or their topic suggests), whether the bot saw a crisis,
the resources already shared, what they wrote while waiting, and notes from earlier
peers. Staff-only: it is never sent to a group chat.
"""

from __future__ import annotations

from core.context import Ctx
from core.storage.models import Conversation, Parent
from handoff.queue import experience_text
from handoff.speech import parent_label


def region_text(ctx: Ctx, parent: Parent | None, lang: str) -> str:
    if parent is None:
        return ctx.text("staff.summary_none", lang)
    parts = [p for p in (parent.region_county, parent.region_state, parent.region_zip) if p]
    return ", ".join(parts) if parts else ctx.text("staff.summary_none", lang)


def topic_text(ctx: Ctx, conv: Conversation, lang: str) -> str:
    if not conv.topic:
        return ctx.text("staff.summary_none", lang)
    topic = ctx.content.topic(conv.topic)
    if topic is None:
        return conv.topic
    return topic.title.get(lang) or topic.title.get("en") or conv.topic


def resource_names(ctx: Ctx, ids: list[str], lang: str) -> list[str]:
    names = []
    for rid in ids:
        res = ctx.content.resource(rid)
        if res is not None:
            names.append(res.name.get(lang) or res.name.get("en") or rid)
    return names


def summary_text(ctx: Ctx, conv: Conversation, parent: Parent | None, lang: str) -> str:
    """The full summary in the specialist's language ``lang``."""
    none = ctx.text("staff.summary_none", lang)
    crisis = (
        ctx.text("staff.summary_crisis", lang, category=conv.crisis_category or "?")
        if conv.crisis
        else ctx.text("staff.summary_no_crisis", lang)
    )
    resources = resource_names(ctx, list(conv.resources_shared or []), lang)
    notes = list(conv.handoff_notes or [])
    return ctx.text(
        "staff.summary",
        lang,
        who=parent_label(ctx, parent, lang),
        language=conv.lang,
        region=region_text(ctx, parent, lang),
        topic=topic_text(ctx, conv, lang),
        experience=experience_text(ctx, conv, lang) or none,
        crisis=crisis,
        resources=", ".join(resources) if resources else none,
        waiting_note=conv.waiting_note or none,
        notes="\n".join(f"• {n}" for n in notes) if notes else none,
        after_hours=ctx.text("staff.summary_after_hours", lang) if conv.after_hours else "",
    )
