"""The parent's own handoff card: what the peer will read, seen and shaped by the parent.

Before a parent joins the queue they see exactly what their peer will read before saying
hello: what it is about (the topic), a line in their own words, their language, who they
would like to talk with, and where they are. They can type the line (or a new one), take
anything out, change who they would like, and send it; only then are they queued, and the
specialist gets that card and nothing else from the chat with the bot. A parent who is
afraid of what gets passed on can see it, and a parent who already told the bot their
story says it once, in the words they choose.

A crisis never waits for a card: the screen sends the crisis lines and queues the parent
at once (``bot/app/dispatch.py``), and the peer is told the line saw a crisis.

The draft lives in the flow data (``data["card"]``) until it is sent, /stop or /forget,
or a day without a word (the retention purge, ``bot/app/jobs.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flows.content import Region
from flows.effects import RequestPeer
from flows.events import Button
from flows.parent import machine as m

if TYPE_CHECKING:
    from flows.parent.flow import _Ctx

LINE_MAX = 400  # a line, not the whole story: the peer hears the rest from the parent
CARD = "card"


def region_label(region: Region | None) -> str:
    """"Travis County, TX, 78701": the same order the specialist's summary uses."""
    if region is None:
        return ""
    return ", ".join(p for p in (region.county, region.state, region.zip) if p)


def open_card(ctx: _Ctx, *, note: str | None, wish: str | bool | None = False) -> None:
    """Show the card (a new one, or the one on screen with this change) instead of queueing.

    ``wish``: an experience tag the parent asked for, ``None`` for "whoever is free", or
    ``False`` to keep what the card says. Without a wish the card says "whoever is free"
    (their topic's peer is still preferred when one is free, if the topic stays on it).
    """
    card = _draft(ctx) if ctx.state == m.REVIEWING_CARD else _new_card(ctx)
    if note:
        _set_line(ctx, card, note)
    if wish is not False:
        card["experience"], card["chosen"] = (wish, True) if wish else (None, False)
    ctx.data[CARD] = card
    ctx.fire("review_card")
    show(ctx)


def _new_card(ctx: _Ctx) -> dict[str, Any]:
    return {
        "line": None,
        "experience": None,
        "chosen": False,
        "topic": bool(ctx.data.get("topic")),
        "region": bool(region_label(ctx.region)),
    }


def _draft(ctx: _Ctx) -> dict[str, Any]:
    raw = ctx.data.get(CARD)
    return dict(raw) if isinstance(raw, dict) else _new_card(ctx)


def _set_line(ctx: _Ctx, card: dict[str, Any], text: str) -> None:
    line = " ".join(text.split())
    if len(line) > LINE_MAX:
        cut = line[:LINE_MAX].rsplit(" ", 1)[0] or line[:LINE_MAX]
        line = f"{cut}…"
        ctx.say("parent.card.line_cut")
    card["line"] = line or None


def show(ctx: _Ctx) -> None:
    """The card as the peer will read it, and what the parent can change."""
    card = _draft(ctx)
    none = ctx.text("parent.card.none")
    topic = ctx.topic if card.get("topic") else None
    region = region_label(ctx.region) if card.get("region") else ""
    chosen = (ctx.content.experience(str(card["experience"]))
              if card.get("chosen") and card.get("experience") else None)
    wish = (ctx.text("parent.card.experience", label=ctx.local(chosen.label))
            if chosen is not None else ctx.text("parent.card.anyone"))
    text = ctx.text(
        "parent.card.show",
        topic=ctx.local(topic.title) if topic else none,
        line=card.get("line") or ctx.text("parent.card.no_line"),
        language=ctx.text(f"parent.buttons.lang_{ctx.lang}"),
        experience=wish,
        region=region or none,
    )
    rows: list[list[Button]] = [[ctx.button("parent.buttons.card_send", "cd", "send")]]
    if card.get("line"):
        rows.append([ctx.button("parent.buttons.card_no_line", "cd", "line")])
    if topic is not None:
        rows.append([ctx.button("parent.buttons.card_no_topic", "cd", "topic")])
    if region:
        rows.append([ctx.button("parent.buttons.card_no_region", "cd", "region")])
    if ctx.content.experiences:
        rows.append([ctx.button("parent.buttons.card_experience", "pe")])
    ctx.send(text, rows)


def typed_line(ctx: _Ctx, text: str) -> None:
    """Free text while the card is on screen is the line in their own words."""
    card = _draft(ctx)
    _set_line(ctx, card, text)
    ctx.data[CARD] = card
    show(ctx)


def btn_card(ctx: _Ctx, arg: str) -> bool:
    """Send the card, or take one thing out of it and show it again."""
    if ctx.state != m.REVIEWING_CARD:
        return False
    if arg == "send":
        send(ctx)
        return True
    card = _draft(ctx)
    if arg not in ("line", "topic", "region"):
        return False
    card[arg] = None if arg == "line" else False
    ctx.data[CARD] = card
    show(ctx)
    return True


def send(ctx: _Ctx) -> None:
    """Queue the parent with exactly the card; the handoff part answers with their place."""
    card = _draft(ctx)
    ctx.data.pop(CARD, None)
    topic = ctx.data.get("topic") if card.get("topic") else None
    experience = card.get("experience")
    if experience is None and topic:  # the topic's peer, a soft preference, never required
        default = ctx.content.experience_for_topic(str(topic))
        experience = default.id if default is not None else None
    ctx.effects.append(RequestPeer(
        note=card.get("line") or None,
        experience=str(experience) if experience else None,
        chosen=bool(card.get("chosen")),
        card=True,
        topic=str(topic) if topic else None,
        region=bool(card.get("region")),
    ))
    ctx.fire("talk")
