"""A busy line: many parents talking with specialists, numbered messages both ways.

Used by the fault and kill tests. Parents send ``p<id>#<n>``; simulated specialists reply
(a Telegram reply to the relayed message) with ``s<id>>p<id>#<n>``. At the end, every
parent message must have reached its specialist and every reply its parent; copies beyond
the first are counted as duplicates and reported, never silently accepted.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from core.storage.db import Database
from core.storage.migrate import upgrade
from core.storage.models import Conversation, Parent
from fake_telegram import FakeTelegram
from handoff import roster

PARENT_MARK = re.compile(r"\bp(\d+)#(\d+)\b")
REPLY_MARK = re.compile(r"\bs(\d+)>p(\d+)#(\d+)\b")


@dataclass
class Load:
    fake: FakeTelegram
    parents: list[int]
    specialists: list[int]
    assignment: dict[int, int] = field(default_factory=dict)  # parent -> specialist
    pseudonyms: dict[int, str] = field(default_factory=dict)  # parent -> pseudonym
    my_messages: dict[tuple[int, int], int] = field(default_factory=dict)  # (staff, msg) -> parent
    held_answered: int = 0
    answered_prompts: set[tuple[int, int]] = field(default_factory=set)
    prompt_cursor: dict[int, int] = field(default_factory=dict)  # staff -> messages read
    sent_by_parent: list[tuple[int, int]] = field(default_factory=list)  # (parent, n)
    replied: set[tuple[int, int]] = field(default_factory=set)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def add_specialists(db_url: str, ids: list[int], max_active: int) -> None:
    db = Database(db_url)
    await upgrade(db)
    async with db.tx() as s:
        for i, sid in enumerate(ids):
            await roster.add_staff(s, sid, f"Peer {i}", "specialist", ["en", "es"], max_active,
                                   [], datetime.now(UTC))
    await db.dispose()


async def assignments(db_url: str) -> tuple[dict[int, int], dict[int, str]]:
    db = Database(db_url)
    async with db.read() as s:
        rows = (await s.execute(
            select(Parent.tg_user_id, Conversation.specialist_id, Parent.pseudonym)
            .join(Conversation, Conversation.parent_id == Parent.id)
            .where(Conversation.status == "active")
        )).all()
    await db.dispose()
    return ({int(p): int(sp) for p, sp, _ in rows if sp is not None},
            {int(p): str(code) for p, _, code in rows})


async def connect_everyone(load: Load, db_url: str, timeout: float = 90.0) -> None:
    """Specialists go on duty, parents ask to talk, specialists take until all are matched."""
    fake = load.fake
    for sid in load.specialists:
        fake.create_user(sid, f"S{sid}", language_code="en")
        fake.user_sends(sid, "/onduty")
    for pid in load.parents:
        fake.create_user(pid, f"P{pid}", language_code="en")
        fake.user_sends(pid, "/talk")
        fake.user_sends(pid, "/talk")  # again: the handoff card is sent as it is
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        load.assignment, load.pseudonyms = await assignments(db_url)
        if len(load.assignment) == len(load.parents):
            return
        for sid in load.specialists:
            fake.user_sends(sid, "/next")
        await asyncio.sleep(3.0)
    raise AssertionError(f"only {len(load.assignment)} of {len(load.parents)} parents matched")


async def parents_talk(load: Load, seconds: float, every: float, seed: int = 1) -> None:
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    counters = Counter[int]()
    next_at = {pid: loop.time() + rng.uniform(0, every) for pid in load.parents}
    while loop.time() < end:
        now = loop.time()
        for pid, at in next_at.items():
            if at <= now:
                counters[pid] += 1
                n = counters[pid]
                load.fake.user_sends(pid, f"how are you p{pid}#{n}")
                load.sent_by_parent.append((pid, n))
                next_at[pid] = now + every * rng.uniform(0.7, 1.3)
        await asyncio.sleep(0.05)


async def specialists_answer(load: Load) -> None:
    """Each specialist replies to each relayed parent message, once, after a human pause."""
    seen: set[tuple[int, int]] = set()
    cursor = dict.fromkeys(load.specialists, 0)  # read each chat incrementally: stay cheap
    while not load.stop.is_set():
        for sid in load.specialists:
            fresh = load.fake.world.bot_messages.get(sid, [])[cursor[sid]:]
            for raw in fresh:
                msg = raw.summary()
                m = PARENT_MARK.search(msg["text"] or "")
                if not m or msg["deleted"]:
                    continue
                key = (int(m.group(1)), int(m.group(2)))
                if key in seen:
                    continue
                if msg.get("ts") and (datetime.now(UTC).timestamp() - float(msg["ts"])) < 0.7:
                    break  # a person needs a moment to read; come back to this one
                seen.add(key)
                sent = load.fake.user_sends(sid, f"thanks s{sid}>p{key[0]}#{key[1]}",
                                            reply_to=msg["message_id"])
                load.my_messages[(sid, int(sent["message_id"]))] = key[0]
                load.replied.add(key)
            else:
                cursor[sid] += len(fresh)
            answer_which_parent(load, sid)
        await asyncio.sleep(0.2)


def answer_which_parent(load: Load, sid: int) -> None:
    """A reply to a copy whose id the line never learned (Telegram's answer was lost) is
    held, and the line asks which parent it is for; the specialist answers, as a person
    would. Every prompt is read once, however many messages came after it."""
    chat = load.fake.world.bot_messages.get(sid, [])
    start = load.prompt_cursor.get(sid, 0)
    load.prompt_cursor[sid] = len(chat)
    for raw in chat[start:]:
        msg = raw.summary()
        if not msg["buttons"] or msg["reply_to"] is None:
            continue
        pid = load.my_messages.get((sid, int(msg["reply_to"])))
        if pid is None or (sid, msg["message_id"]) in load.answered_prompts:
            continue
        label = f"Parent {load.pseudonyms.get(pid, '?')}"
        for row in msg["buttons"]:
            for b in row:
                if b["text"] == label and b.get("callback_data"):
                    load.fake.user_presses(sid, msg["message_id"], b["callback_data"])
                    load.answered_prompts.add((sid, msg["message_id"]))
                    load.held_answered += 1


def tally(load: Load) -> dict[str, int]:
    """Arrivals of every numbered message at its destination, and duplicates."""
    at_specialist = Counter[tuple[int, int]]()
    for sid in load.specialists:
        for msg in load.fake.messages_to(sid):
            for m in PARENT_MARK.finditer(msg["text"] or ""):
                if not REPLY_MARK.search(msg["text"] or ""):
                    at_specialist[(int(m.group(1)), int(m.group(2)))] += 1
    at_parent = Counter[tuple[int, int]]()
    for pid in load.parents:
        for msg in load.fake.messages_to(pid):
            for m in REPLY_MARK.finditer(msg["text"] or ""):
                at_parent[(int(m.group(2)), int(m.group(3)))] += 1
    sent = set(load.sent_by_parent)
    return {
        "parent_messages": len(sent),
        "parent_missing": sum(1 for k in sent if at_specialist[k] == 0),
        "parent_duplicates": sum(c - 1 for k, c in at_specialist.items() if c > 1),
        "replies": len(load.replied),
        "reply_missing": sum(1 for k in load.replied if at_parent[k] == 0),
        "reply_duplicates": sum(c - 1 for k, c in at_parent.items() if c > 1),
    }


async def wait_delivered(load: Load, timeout: float) -> dict[str, int]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        t = tally(load)
        answered_all = len(load.replied) >= len(set(load.sent_by_parent))
        if t["parent_missing"] == 0 and t["reply_missing"] == 0 and answered_all:
            return t
        if loop.time() > deadline:
            return t
        await asyncio.sleep(2.0)
