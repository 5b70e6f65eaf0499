"""A batch of rows in one transaction must end exactly as the same rows one at a time.

On SQLite the workers process many chats' rows in one transaction (``process_batch``),
and leave most parents' UPDATEs to one flush at the end rather than one per row. Any
row that saw a stale parent, a missed conversation or a lost update would make the two
ways differ, so the same interleaved updates (several messages per parent, a crisis, a
request for a person, a flood) go through both, and everything a parent would notice is
compared: every reply in every chat, each parent's flow state, and their conversations.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app.processor import Processor
from bot.telegram.intake import store_updates
from core.config import Settings
from core.storage import inbox
from core.storage.db import Database
from core.storage.migrate import upgrade
from core.storage.models import Conversation, OutboxRow, Parent, Staff
from flows.callbacks import encode
from flows.content import ContentStore
from handoff import roster

CONTENT = Path(__file__).resolve().parents[2] / "content"
SECRET_KEY = "test-secret"
SECRET = Settings(secret_key=SECRET_KEY, telegram_token="x").secret
SPECIALIST = 900
SCRIPTS: dict[int, list[str]] = {
    # Takes conversation 2 (501's request, after 502's crisis opened conversation 1).
    SPECIALIST: ["/onduty", "hello?", "/queue", "still nobody?", "TAKE 2",
                 "I hear you, that is a lot", "/end"],
    501: ["/start", "It has been a really long week and I am worn out at home",
          "My son has tantrums every single night", "/talk", "/talk", "are you there?", "thank you",
          "ok bye"],
    502: ["/start", "I want to kill myself tonight", "sorry, I am still here"],
    503: ["/start", "Bedtime was hard again tonight, he screamed for an hour", "/resources",
          "90210"],
    504: ["/start", *[f"message {i} and it keeps going" for i in range(11)]],  # a flood
    505: ["/start", "/language", "hola", "/talk necesito hablar con alguien", "/talk"],
}


def _update(uid: int, chat: int, text: str) -> dict[str, Any]:
    user = {"id": chat, "is_bot": False, "first_name": "P", "language_code": "en"}
    if text.startswith("TAKE "):  # the specialist presses "Take" under an alert
        data = encode(SECRET, chat, "h.take", text.split()[1])
        return {"update_id": uid, "callback_query": {
            "id": f"cb{uid}", "from": user, "chat_instance": "x", "data": data,
            "message": {"message_id": 1, "date": 1_700_000_000, "text": "alert",
                        "chat": {"id": chat, "type": "private", "first_name": "P"}}}}
    message: dict[str, Any] = {
        "message_id": uid, "date": 1_700_000_000, "text": text,
        "chat": {"id": chat, "type": "private", "first_name": "P"},
        "from": user}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(text.split()[0])}]
    return {"update_id": uid, "message": message}


# A second batch, once everyone above exists: the first row of a chat then starts from
# records read for the whole batch, which earlier rows of the batch may have changed.
LATER: list[tuple[int, str]] = [
    (SPECIALIST, "TAKE 3"),  # takes 505's request...
    (SPECIALIST, "/end"),  # ...and ends it before 505 writes again
    (505, "is anyone there?"),
    (SPECIALIST, "TAKE 1"),  # takes 502's crisis
    (502, "thank you for coming"),  # queued when the batch began, with a peer now
    (501, "/talk"),  # their earlier conversation ended
    (501, "/talk"),  # the card, sent as it is
    (503, "hello again"),
    (SPECIALIST, "I am here with you"),
    (502, "ok"),
]


def _later() -> list[dict[str, Any]]:
    first = len(_interleaved()) + 1
    return [_update(first + i, chat, text) for i, (chat, text) in enumerate(LATER)]


def _interleaved() -> list[dict[str, Any]]:
    """Round robin over the parents: each chat in order, the chats mixed in one batch."""
    updates = []
    longest = max(len(s) for s in SCRIPTS.values())
    uid = 1
    for i in range(longest):
        for chat, script in SCRIPTS.items():
            if i < len(script):
                updates.append(_update(uid, chat, script[i]))
                uid += 1
    return updates


def _timeless(data: dict[str, Any] | None) -> dict[str, Any]:
    """Flow data without the moments things happened (the two runs happen at different
    times): when the direct question was asked is dropped, what it was about is kept."""
    out = dict(data or {})
    if isinstance(out.get("safety_q"), dict):
        out["safety_q"] = {k: v for k, v in out["safety_q"].items() if k != "at"}
    return out


async def _run(path: Path, batched: bool, budget: float | None = None) -> dict[str, Any]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    try:
        settings = Settings(secret_key=SECRET_KEY, telegram_token="x", staff_chat_id=None)
        processor = Processor(db, settings, ContentStore(CONTENT))
        async with db.tx() as s:
            await roster.add_staff(s, SPECIALIST, "Alex", "specialist", ["en"], 2, [],
                                   datetime.now(UTC))
        for updates in (_interleaved(), _later()):
            await store_updates(db, updates, datetime.now(UTC))
            if batched and budget is None:
                assert await processor.process_batch(500) == (len(updates), False)
            elif batched:
                # Out of budget after every row: each batch commits one row and says more
                # are left, until none are.
                batches = 0
                while True:
                    n, more = await processor.process_batch(500, budget=budget)
                    batches += n > 0
                    if not more:
                        break
                    assert n == 1
                assert batches == len(updates)
            else:
                async with db.read() as s:
                    rows = await inbox.pending_rows(s, 500)
                for row in rows:
                    await processor.process(row.id)
        async with db.read() as s:
            staff = [(m.on_duty, m.paused) for m in await s.scalars(select(Staff))]
            parents = {p.tg_user_id: (p.flow_state, p.lang, p.burst_count, p.no_checkin,
                                      sorted(_timeless(p.flow_data).items(), key=str),
                                      [text for _at, text in p.screen_window or []])
                       for p in await s.scalars(select(Parent))}
            ids = {p.id: p.tg_user_id for p in await s.scalars(select(Parent))}
            convs = sorted((ids[c.parent_id], c.status, c.priority, c.crisis, c.waiting_note)
                           for c in await s.scalars(select(Conversation)))
            # Pseudonyms are random: name parents by their Telegram id instead.
            names = {p.pseudonym: f"#{p.tg_user_id}" for p in await s.scalars(select(Parent))}
            sent: dict[int | None, list[tuple[str, str]]] = {}
            for row in await s.scalars(select(OutboxRow).order_by(OutboxRow.id)):
                params = row.params or {}
                said = str(params.get("text", "")) + str(params.get("buttons", ""))
                for pseudonym, name in names.items():
                    said = said.replace(pseudonym, name)
                sent.setdefault(row.chat_id, []).append((row.method, said))
        return {"parents": parents, "conversations": convs, "sent": sent, "staff": staff}
    finally:
        await db.dispose()


async def test_one_batch_ends_like_row_by_row(tmp_path: Path) -> None:
    alone = await _run(tmp_path / "alone.db", batched=False)
    together = await _run(tmp_path / "batch.db", batched=True)
    assert together["parents"] == alone["parents"]
    assert together["conversations"] == alone["conversations"]
    assert together["sent"] == alone["sent"]
    assert together["staff"] == alone["staff"]
    # The script reached the states it is meant to exercise.
    assert alone["parents"][502][0] == "handed_off"  # the crisis
    assert {c[0] for c in alone["conversations"]} >= {501, 502, 505}
    assert any(c[1] == "ended" for c in alone["conversations"])  # the specialist's /end
    assert any(m == "copyMessage" for m, _ in alone["sent"][SPECIALIST])  # relayed
    assert len(alone["sent"][504]) < len(SCRIPTS[504])  # the flood was held back


async def test_a_batch_cut_short_by_its_time_budget_ends_like_row_by_row(tmp_path: Path) -> None:
    """A batch that stops when its time is spent leaves the rest pending in order: each
    parent ends exactly as if nothing had been cut."""
    alone = await _run(tmp_path / "alone.db", batched=False)
    cut = await _run(tmp_path / "cut.db", batched=True, budget=0.0)
    assert cut == alone





