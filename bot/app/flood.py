"""Floods: a parent sending dozens of messages a second is slowed, never dropped.

Every message is still stored (inbox) and screened for crisis before this runs. While a
parent floods, the flow stops answering each message (one gentle "slow down" per burst);
a relayed conversation gets the texts batched into one message for the specialist every
few seconds, so a specialist's chat stays readable and within Telegram's per-chat limit.
Other parents are not crowded out: a chat is processed by one worker at a time, and its
replies pass the per-chat rate limit like everyone else's.
"""

from __future__ import annotations

from datetime import timedelta

from bot.telegram.outgoing import split_text
from core.context import Ctx
from core.storage.models import Conversation, Parent, RelayLink, Staff
from flows.events import Inbound, SendText
from handoff.speech import staff_lang

WINDOW = timedelta(seconds=10)
MAX_IN_WINDOW = 8  # more than this within WINDOW is a flood (people do send bursts of 3-5)
QUIET_AFTER = timedelta(seconds=20)  # flood mode ends after this long under the limit
FLUSH_AFTER = timedelta(seconds=3)


def register(ctx: Ctx, parent: Parent) -> bool:
    """Count this message; True while the parent is flooding."""
    if parent.burst_started_at is None or ctx.now - parent.burst_started_at > WINDOW:
        parent.burst_started_at = ctx.now
        parent.burst_count = 0
    parent.burst_count = (parent.burst_count or 0) + 1
    if parent.burst_count > MAX_IN_WINDOW:
        starting = parent.flood_until is None or parent.flood_until < ctx.now
        parent.flood_until = ctx.now + QUIET_AFTER
        if starting:
            ctx.say(parent.chat_id, "common.slow_down", parent.lang)
        return True
    return parent.flood_until is not None and parent.flood_until > ctx.now


async def batch_relay(ctx: Ctx, parent: Parent, conv: Conversation, ev: Inbound) -> None:
    """Add a flooded text to the conversation's batch; a job sends the batch shortly."""
    assert ev.text is not None
    batch = list(conv.relay_batch or [])
    if not batch:
        await ctx.schedule("flood_flush", ctx.now + FLUSH_AFTER, chat_id=parent.chat_id,
                           parent_id=parent.id, payload={"conv": conv.id})
    batch.append(ev.text)  # whole: the batch is split into as many messages as it needs
    conv.relay_batch = batch
    conv.last_parent_msg_at = ctx.now


async def flush(ctx: Ctx, conv_id: int) -> None:
    """Send the batched texts to the specialist as one message they can reply to."""
    conv = await ctx.session.get(Conversation, conv_id)
    if conv is None or not conv.relay_batch:
        return
    batch, conv.relay_batch = list(conv.relay_batch), []
    if conv.status != "active" or conv.specialist_id is None:
        return  # the conversation ended or moved; the texts were screened and are in the inbox
    parent = await ctx.session.get(Parent, conv.parent_id)
    pseudonym = parent.pseudonym if parent else "?"
    staff = await ctx.session.get(Staff, conv.specialist_id)
    lang = staff_lang(staff) if staff is not None else "en"  # the specialist reads it
    header = ctx.text("moderation.batch_header", lang, pseudonym=pseudonym, count=len(batch))
    body = "\n\n".join(batch)
    # Every text whole: a batch longer than one Telegram message goes as several (split
    # between the parent's messages where it can be), each linked to the conversation, so
    # a reply to any of them (the header says "reply to this message") reaches the parent.
    for part in split_text(f"{header}\n\n{body}"):
        link = RelayLink(conversation_id=conv.id, staff_chat_id=conv.specialist_id,
                         staff_message_id=None, created_at=ctx.now)
        ctx.session.add(link)
        await ctx.session.flush()
        ctx.send(SendText(conv.specialist_id, part, meta={"relay_link": link.id}))
