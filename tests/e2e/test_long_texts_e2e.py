"""Telegram's length limits never cost anyone their words.

A message is at most 4096 characters and a caption 1024 (``fake_telegram`` refuses more,
as Telegram does). A parent writes up to those limits and the specialist must read every
word, whether the line copies the message, keeps it for the summary while the parent
waits, or gathers it into a flood batch; a specialist's full-length reply reaches the
parent. Time is moved by setting a pending job's ``due_at`` back.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import Line, Person
from sqlalchemy import select, update

from core.storage.models import Conversation, Job


def t(line: Line, key: str, lang: str = "en", **kw: object) -> str:
    return line.runtime.content.current.text(key, lang, **kw)


def words(tag: str, length: int) -> str:
    """``length`` characters of numbered words (``tag0 tag1 ...``): any lost word shows."""
    out, i = "", 0
    while len(out) < length:
        out += f"{tag}{i} "
        i += 1
    return out[:length - 1] + "."


def flat(text: str) -> str:
    """Whitespace-insensitive form: a split between messages may fall on any space."""
    return " ".join(text.split())


def copies(person: Person) -> list[dict[str, Any]]:
    return [m for m in person.fake.messages_to(person.id) if m["method"] == "copyMessage"]


async def queued(line: Line, uid: int) -> Person:
    parent = line.parent(uid)
    parent.says("/start")
    parent.says("My son was suspended again and I am worn out from all the school meetings")
    await parent.reads(t(line, "parent.ask_help")[:20])
    await parent.press(t(line, "parent.buttons.person"))
    await parent.press(t(line, "parent.buttons.card_send"))
    await parent.reads("in line")
    return parent


async def taken(peer: Person, parent: Person) -> None:
    """``peer`` takes the newest waiting alert; the parent hears the peer joined."""
    await peer.reads("would like to talk")
    await peer.press("Take")
    await parent.reads("has joined")


async def test_full_length_words_reach_the_other_side_whole(line: Line) -> None:
    ana = await line.specialist(7301, "Ana")
    ana.says("/onduty")
    await ana.reads("on duty")

    first = await queued(line, 931)
    note = words("wait", 4096)  # a full Telegram message, written while in line
    first.says(note)
    await first.reads(t(line, "handoff.note_kept")[:20])
    await taken(ana, first)
    # The summary (several messages if it must) carries every word of it.
    await ana.fake.wait_until(lambda: flat(note) in flat(" ".join(ana.texts())), 10)

    second = await queued(line, 932)
    await taken(ana, second)

    # With two parents, a pseudonym line says whose words follow; the words are copied
    # whole, a full-length text and a full-length caption alike.
    long_text, caption = words("text", 4096), words("cap", 1024)
    first.says(long_text)
    await ana.fake.wait_until(lambda: any(m["text"] == long_text for m in copies(ana)), 10)
    first.sends_media("photo", caption=caption)
    await ana.fake.wait_until(lambda: any(m["text"] == caption for m in copies(ana)), 10)
    sent = ana.fake.messages_to(ana.id)
    at = next(i for i, m in enumerate(sent) if m["text"] == long_text)
    assert sent[at - 1]["text"].startswith("— ")  # staff.relay_from: "— {who}:"

    # A specialist's full-length reply reaches the parent it answers.
    reply = words("peer", 4096)
    ana.says(reply, reply_to=sent[at]["message_id"])
    await first.fake.wait_until(lambda: any(m["text"] == reply for m in copies(first)), 10)
    assert not any(m["text"] == reply for m in copies(second))


async def test_a_flooding_parents_long_messages_reach_the_specialist_whole(line: Line) -> None:
    ana = await line.specialist(7302, "Ana")
    ana.says("/onduty")
    await ana.reads("on duty")
    parent = await queued(line, 933)
    for i in range(9):  # more than 8 in 10 s: a flood (kept for the peer while in line)
        parent.says(f"short message {i}")
    await parent.saw(t(line, "common.slow_down")[:20])
    await taken(ana, parent)
    longest = [words("flood", 4096), words("again", 4096)]
    for text in longest:  # still in the rush: batched for the specialist
        parent.says(text)

    async def flush_now() -> None:
        async with line.runtime.db.tx() as s:
            await s.execute(update(Job).where(Job.kind == "flood_flush", Job.done_at.is_(None))
                            .values(due_at=datetime.now(UTC) - timedelta(seconds=1)))

    # The header's words after the count ("… sent 4 messages in a rush …").
    batch_header = t(line, "moderation.batch_header", pseudonym="P", count=4).split("4", 1)[1]

    def batch() -> list[dict[str, Any]]:
        sent = [m for m in ana.fake.messages_to(ana.id) if m["method"] == "sendMessage"]
        start = next((i for i, m in enumerate(sent) if batch_header in m["text"]),
                     None)
        return [] if start is None else sent[start:]

    for _ in range(100):  # the last two texts are in the batch, waiting for its job
        async with line.runtime.db.read() as s:
            gathered = await s.scalar(select(Conversation.relay_batch)
                                      .where(Conversation.specialist_id == ana.id))
        if gathered and len(gathered) >= 2:
            break
        await asyncio.sleep(0.05)
    await flush_now()
    await line.fake.wait_until(
        lambda: all(flat(x) in flat(" ".join(m["text"] for m in batch())) for x in longest),
        10)
    parts = batch()
    assert len(parts) == 3  # two full-length texts and a header: three messages
    assert all(len(m["text"]) <= 4096 for m in parts)

    # "Reply to this message to answer": a reply to the header's message reaches the parent.
    ana.says("I read all of it. I'm here.", reply_to=parts[0]["message_id"])
    await parent.reads("I read all of it")
