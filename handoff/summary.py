"""The summary a specialist reads before saying hello.

A parent who asked for a person sent their own handoff card (``flows/parent/card.py``):
the summary is that card, and nothing else from their chat with the bot. A crisis
queues a parent without a card; its summary (and that of conversations from before
the card) gathers what the parent already told the line so they never repeat it:
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


def language_name(ctx: Ctx, code: str) -> str:
    """"English", "Español": the name the parent saw on their card (each in itself)."""
    key = f"parent.buttons.lang_{code}"
    return ctx.text(key, code) if ctx.content.has_text(key, code) else code


def card_text(ctx: Ctx, conv: Conversation, parent: Parent | None, lang: str) -> str:
    """The parent's handoff card as they sent it, and what the line adds for safety.

    Only what the parent chose to share: the topic they kept, their line, language, the
    peer they asked for, the region if they left it on. Added by the line, never from the
    chat with the bot: a crisis seen since, what they wrote while waiting, earlier peers'
    notes, and whether it came after hours.
    """
    none = ctx.text("staff.summary_none", lang)
    label = (ctx.content.experience_label(conv.requested_experience, lang)
             if conv.experience_only and conv.requested_experience else None)
    extra = []
    if conv.crisis:
        extra.append(ctx.text("staff.summary_crisis", lang, category=conv.crisis_category or "?"))
    if conv.waiting_note:
        extra.append(ctx.text("staff.card_waiting", lang, waiting_note=conv.waiting_note))
    notes = list(conv.handoff_notes or [])
    if notes:
        extra.append(ctx.text("staff.card_notes", lang,
                              notes="\n".join(f"• {n}" for n in notes)))
    if conv.after_hours:
        extra.append(ctx.text("staff.summary_after_hours", lang))
    return ctx.text(
        "staff.card_summary",
        lang,
        who=parent_label(ctx, parent, lang),
        topic=topic_text(ctx, conv, lang),
        line=conv.card_line or none,
        language=language_name(ctx, conv.lang),
        experience=(ctx.text("staff.card_experience", lang, label=label) if label
                    else ctx.text("staff.card_anyone", lang)),
        region=region_text(ctx, parent, lang) if conv.region_shared else none,
        extra="\n".join(extra),
    ).replace("\n\n\n", "\n\n")


def summary_text(ctx: Ctx, conv: Conversation, parent: Parent | None, lang: str) -> str:
    """The full summary in the specialist's language ``lang`` (the card, if they sent one)."""
    if conv.from_card:
        return card_text(ctx, conv, parent, lang)
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
