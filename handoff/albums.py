"""Albums: Telegram delivers ten photos sent together as ten messages sharing a
``media_group_id``. To the parent it was one message, so it is one message here too: the
other items are not a flood and get no answer of their own, and a specialist receives
the album as one album (``copyMessages``), not as ten separate photos; a specialist's
album reaches the parent the same way.

The updates of one album arrive within a second or so of each other; the album is copied
:data:`ALBUM_WAIT` after its first item, with whatever items have arrived by then (a
straggler after that goes as a second album: nothing is dropped).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from core.context import Ctx
from core.storage.models import Conversation, Parent
from flows.events import Inbound

FLUSH_JOB = "h.album"
ALBUM_WAIT = timedelta(seconds=2)
Side = Literal["parent", "staff"]  # who sent the album


def more_of_album(parent: Parent, ev: Inbound) -> bool:
    """True for the 2nd and later items of the album the parent's last message began.

    Remembers the album of each message on the parent's row, so it holds across restarts
    and across the workers that take turns on a chat."""
    gid = ev.media_group_id
    if gid is None:
        if parent.media_group_id is not None:
            parent.media_group_id = None
        return False
    if parent.media_group_id == gid:
        return True
    parent.media_group_id = gid
    return False


async def add(ctx: Ctx, conv: Conversation, ev: Inbound, side: Side = "parent") -> None:
    """Keep this item for the album being copied to the other side; the first item of a
    batch schedules the copy."""
    if ev.message_id is None:
        return
    batches = dict(conv.album_batch or {})
    ids = [int(i) for i in batches.get(side) or []]
    if not ids:
        # In the sender's chat order: the job runs after the album's own updates.
        await ctx.schedule(FLUSH_JOB, ctx.now + ALBUM_WAIT, chat_id=ev.chat_id,
                           parent_id=conv.parent_id, payload={"conv": conv.id, "side": side})
    if ev.message_id not in ids:
        ids.append(ev.message_id)
    conv.album_batch = {**batches, side: ids}


async def take(ctx: Ctx, conv_id: int, side: Side = "parent"
               ) -> tuple[Conversation, list[int]] | None:
    """The conversation and the album's message ids (increasing), emptying that batch."""
    conv = await ctx.session.get(Conversation, conv_id)
    batches = dict(conv.album_batch or {}) if conv is not None else {}
    if conv is None or not batches.get(side):
        return None
    ids = sorted(int(i) for i in batches.pop(side))
    conv.album_batch = batches or None
    return conv, ids
