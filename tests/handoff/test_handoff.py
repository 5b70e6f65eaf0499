"""The handoff as transcripts: real SQLite files, real content, plain events, no mocks.

Each step runs in its own transaction, like the pipeline does. After each step the
test plays the sender: every message to a staff chat gets a fake Telegram message id,
and relay links are filled from ``meta["relay_link"]`` so later replies can find them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app.staff_router import staff_event
from bot.telegram.outgoing import add_actions
from core.config import Settings
from core.context import Ctx
from core.storage.db import Database
from core.storage.migrate import upgrade
from core.storage.models import (
    AuditEntry,
    Conversation,
    DailyStat,
    HeldMessage,
    Job,
    OutboxRow,
    Parent,
    RelayLink,
    ReportDecision,
    Staff,
)
from flows.content import Content, load_content
from flows.events import Action, AnswerCallback, CopyMessage, Inbound, SendText
from handoff import api
from handoff.claim import claim
from handoff.roster import RosterError, add_staff, list_staff, remove_staff

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
# Tuesday 18:00 UTC = 10:00 in Los Angeles: the line is open.
OPEN = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
# Tuesday 07:00 UTC = Monday 23:00 in Los Angeles: closed.
CLOSED = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
STAFF_CHAT = -1001
PG_URL = os.environ.get("PARENTLINE_TEST_POSTGRES_URL")

ANA, BEN, COORD, ROSA = 1001, 1002, 1003, 1004


def _load() -> Content:
    return load_content(CONTENT_DIR)


CONTENT: Content | None = None


def content() -> Content:
    global CONTENT
    if CONTENT is None:
        CONTENT = _load()
    return CONTENT


class Line:
    """A tiny stand-in for the pipeline: one transaction per event, plus a fake sender."""

    def __init__(self, db: Database, settings: Settings, now: datetime) -> None:
        self.db = db
        self.settings = settings
        self.now = now
        self.msg_ids = itertools.count(5000)
        self.sent: dict[int, list[tuple[int, Action]]] = {}  # chat -> [(message id, action)]

    async def step(self, fn: Callable[[Ctx], Awaitable[Any]]) -> list[Action]:
        async with self.db.tx() as session:
            ctx = Ctx(session=session, now=self.now, settings=self.settings, content=content())
            await fn(ctx)
            actions = list(ctx.actions)
        await self._deliver(actions)
        return actions

    async def _deliver(self, actions: list[Action]) -> None:
        async with self.db.tx() as session:
            for a in actions:
                if isinstance(a, AnswerCallback):
                    continue
                mid = next(self.msg_ids)
                self.sent.setdefault(a.chat_id, []).append((mid, a))
                meta = getattr(a, "meta", {}) or {}
                if "relay_link" in meta:
                    await session.execute(
                        update(RelayLink)
                        .where(RelayLink.id == meta["relay_link"])
                        .values(staff_message_id=mid)
                    )

    # --- driving ---------------------------------------------------------------------------

    async def talk(self, parent_id: int, **kw: Any) -> list[Action]:
        async def go(ctx: Ctx) -> None:
            parent = await ctx.session.get(Parent, parent_id)
            assert parent is not None
            await api.request_peer(ctx, parent, **kw)

        return await self.step(go)

    async def crisis(self, parent_id: int, category: str = "suicide") -> list[Action]:
        async def go(ctx: Ctx) -> None:
            parent = await ctx.session.get(Parent, parent_id)
            assert parent is not None
            await api.escalate_crisis(ctx, parent, category, ("rule:suicide-1",))

        return await self.step(go)

    async def staff(self, staff_id: int, ev: Inbound) -> list[Action]:
        async def go(ctx: Ctx) -> None:
            staff = await ctx.session.get(Staff, staff_id)
            assert staff is not None
            await staff_event(ctx, staff, ev)  # the one router: commands, buttons, messages

        return await self.step(go)

    async def parent(self, parent_id: int, ev: Inbound) -> list[Action]:
        async def go(ctx: Ctx) -> None:
            parent = await ctx.session.get(Parent, parent_id)
            assert parent is not None
            conv = await api.open_conversation(ctx, parent)
            if conv is None:
                conv = await ctx.session.scalar(
                    select(Conversation)
                    .where(Conversation.parent_id == parent_id)
                    .order_by(Conversation.id.desc())
                )
            assert conv is not None
            await api.parent_event(ctx, parent, conv, ev)

        return await self.step(go)

    async def job(self, kind: str) -> list[Action]:
        """Run every due job of ``kind`` the way the pipeline would."""
        async with self.db.tx() as session:
            jobs = list(
                await session.scalars(
                    select(Job).where(
                        Job.kind == kind, Job.done_at.is_(None), Job.due_at <= self.now
                    )
                )
            )
            for j in jobs:
                j.done_at = self.now
            todo = [(j.kind, dict(j.payload)) for j in jobs]
        out: list[Action] = []
        for k, payload in todo:
            out += await self.step(lambda ctx, k=k, p=payload: api.internal_job(ctx, k, p))
        return out

    async def row(self, model: Any, key: Any) -> Any:
        async with self.db.read() as s:
            return await s.get(model, key)

    async def conv(self, parent_id: int) -> Conversation:
        async with self.db.read() as s:
            c = await s.scalar(
                select(Conversation)
                .where(Conversation.parent_id == parent_id)
                .order_by(Conversation.id.desc())
            )
            assert c is not None
            return c

    def last_id(self, chat_id: int, pred: Callable[[Action], bool] = lambda a: True) -> int:
        for mid, a in reversed(self.sent.get(chat_id, [])):
            if pred(a):
                return mid
        raise AssertionError(f"nothing sent to {chat_id}")


def cmd(chat: int, command: str, args: str = "", reply_to: int | None = None) -> Inbound:
    return Inbound(
        kind="command",
        chat_id=chat,
        user_id=chat,
        command=command,
        args=args,
        message_id=next(_mids),
        text=f"/{command} {args}".strip(),
        reply_to_message_id=reply_to,
    )


def text(chat: int, body: str, reply_to: int | None = None) -> Inbound:
    return Inbound(
        kind="text",
        chat_id=chat,
        user_id=chat,
        text=body,
        message_id=next(_mids),
        reply_to_message_id=reply_to,
    )


def media(chat: int, kind: str = "photo", reply_to: int | None = None) -> Inbound:
    return Inbound(
        kind="media",
        chat_id=chat,
        user_id=chat,
        media=kind,  # type: ignore[arg-type]
        message_id=next(_mids),
        reply_to_message_id=reply_to,
    )


_mids = itertools.count(100)


def buttons(actions: list[Action], chat: int) -> list[tuple[str, str, str]]:
    """(label, action, raw data) of every button sent to ``chat``."""
    out = []
    for a in actions:
        if isinstance(a, SendText) and a.chat_id == chat:
            for row in a.buttons:
                for b in row:
                    out.append((b.label, b.data.split("|")[0], b.data))
    return out


def press(actions: list[Action], chat: int, action: str, label: str | None = None) -> Inbound:
    for lab, act, data in buttons(actions, chat):
        if act == action and (label is None or label in lab):
            return Inbound(
                kind="callback", chat_id=chat, user_id=chat, callback_id="cb", callback_data=data
            )
    raise AssertionError(f"no {action} button for {chat}: {buttons(actions, chat)}")


def texts_to(actions: list[Action], chat: int) -> list[str]:
    return [a.text for a in actions if isinstance(a, SendText) and a.chat_id == chat]


def copies_to(actions: list[Action], chat: int) -> list[CopyMessage]:
    return [a for a in actions if isinstance(a, CopyMessage) and a.chat_id == chat]


def t(key: str, lang: str = "en", **kw: Any) -> str:
    return content().text(key, lang, **kw)


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key="test-secret", staff_chat_id=STAFF_CHAT, telegram_token="x")


async def _db(url: str, schema: str | None = None) -> Database:
    db = Database(url, schema=schema)
    await upgrade(db)
    return db


@pytest.fixture(params=["sqlite", "postgres"])
async def line(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings) -> Any:
    content()
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip("set PARENTLINE_TEST_POSTGRES_URL to run the transcripts on PostgreSQL")
        db = await _db(PG_URL, f"t_{uuid.uuid4().hex[:10]}")
    else:
        db = await _db(f"sqlite+aiosqlite:///{tmp_path / 'line.db'}")
    async with db.tx() as s:
        await add_staff(s, ANA, "Ana", "specialist", ["en"], 2, ["iep"], OPEN)
        await add_staff(s, BEN, "Ben", "specialist", ["en"], 3, [], OPEN)
        await add_staff(s, COORD, "Cora", "coordinator", ["en"], 3, [], OPEN)
        await add_staff(s, ROSA, "Rosa", "specialist", ["es", "en"], 3, [], OPEN)
        for i, (lang, pseud) in enumerate(
            [("en", "K7Q2"), ("en", "M3P9"), ("es", "R2D4"), ("en", "Z8X1")], start=1
        ):
            s.add(
                Parent(
                    id=i,
                    pseudonym=pseud,
                    tg_user_id=9000 + i,
                    chat_id=9000 + i,
                    lang=lang,
                    created_at=OPEN,
                    last_seen_at=OPEN,
                    flow_data={"topic": "tantrums"},
                    region_state="CA",
                )
            )
    yield Line(db, settings, OPEN)
    await db.drop_schema()
    await db.dispose()


P1, P2, P3, P4 = 9001, 9002, 9003, 9004


async def on_duty(line: Line, *ids: int) -> None:
    for sid in ids:
        await line.staff(sid, cmd(sid, "onduty"))


# --- roster ----------------------------------------------------------------------------------


async def test_roster_validates_and_lists(line: Line) -> None:
    async with line.db.tx() as s:
        with pytest.raises(RosterError):
            await add_staff(s, 1, "X", "boss", ["en"], 3, [], OPEN)
        with pytest.raises(RosterError):
            await add_staff(s, 1, "X", "specialist", ["en"], 3, ["astrology"], OPEN)
        names = [x.name for x in await list_staff(s)]
        assert names[0] == "Cora" and set(names) == {"Ana", "Ben", "Cora", "Rosa"}
        assert await remove_staff(s, BEN) and not await remove_staff(s, BEN)


# --- the full path -----------------------------------------------------------------------------


async def test_full_path_talk_take_relay_consult_transfer_end_survey(line: Line) -> None:
    await on_duty(line, ANA, BEN, COORD)
    acts = await line.talk(1, note="my son won't sleep")
    assert any("number 1" in x for x in texts_to(acts, P1))
    alert = press(acts, ANA, "h.take")
    assert buttons(acts, BEN) and buttons(acts, COORD)
    chat_line = texts_to(acts, STAFF_CHAT)
    assert chat_line and "K7Q2" in chat_line[0] and "sleep" not in chat_line[0]

    acts = await line.staff(ANA, alert)
    assert t("handoff.peer_joined", name="Ana") in texts_to(acts, P1)
    summary = texts_to(acts, ANA)[0]
    assert "Parent K7Q2" in summary and "won't sleep" in summary and "CA" in summary
    conv = await line.conv(1)
    assert conv.status == "active" and conv.specialist_id == ANA

    # specialist -> parent (only one conversation: no reply needed)
    hello = text(ANA, "Hi, I'm Ana. I've been there too.")
    acts = await line.staff(ANA, hello)
    [copy] = copies_to(acts, P1)
    assert copy.from_chat_id == ANA and copy.message_id == hello.message_id
    assert (await line.conv(1)).first_response_at == OPEN

    # parent -> specialist, text then two photos: the media notice comes once
    acts = await line.parent(1, text(P1, "thank you"))
    [c] = copies_to(acts, ANA)
    assert c.meta["relay_link"]
    acts = await line.parent(1, media(P1, "photo"))
    assert t("handoff.media_notice") in texts_to(acts, P1) and copies_to(acts, ANA)
    acts = await line.parent(1, media(P1, "voice"))
    assert t("handoff.media_notice") not in texts_to(acts, P1) and copies_to(acts, ANA)

    # consult: the coordinator advises the specialist privately
    acts = await line.staff(ANA, cmd(ANA, "consult"))
    assert texts_to(acts, COORD) and t("staff.consult_sent") in texts_to(acts, ANA)
    acts = await line.staff(COORD, press(acts, COORD, "h.help"))
    advice = text(COORD, "ask what bedtime looks like")
    acts = await line.staff(COORD, advice)
    assert copies_to(acts, ANA) and not copies_to(acts, P1)
    acts = await line.staff(COORD, _press_from(line, COORD, "h.advise_done"))
    assert t("staff.advise_ended") in texts_to(acts, COORD)

    # transfer to Ben with a note
    acts = await line.staff(ANA, cmd(ANA, "transfer", "likes direct answers"))
    acts = await line.staff(ANA, press(acts, ANA, "h.xfer", "Ben"))
    assert t("handoff.peer_changed", name="Ben") in texts_to(acts, P1)
    assert any("likes direct answers" in x for x in texts_to(acts, BEN))
    assert (await line.conv(1)).specialist_id == BEN

    # parent ends; survey; specialist wraps up
    acts = await line.parent(1, cmd(P1, "end"))
    assert t("handoff.ended_thanks") in texts_to(acts, P1)
    acts2 = await line.parent(1, press(acts, P1, "h.sv_heard", "5"))
    acts3 = await line.parent(1, press(acts2, P1, "h.sv_help", "4"))
    assert t("handoff.survey_thanks") in texts_to(acts3, P1)
    conv = await line.conv(1)
    assert (conv.status, conv.ended_by, conv.survey_heard, conv.survey_helpful) == (
        "ended",
        "parent",
        5,
        4,
    )
    acts = await line.staff(BEN, press(acts, BEN, "h.cat", "Parenting stress"))
    await line.staff(BEN, text(BEN, "Bedtime struggles; parent felt calmer."))
    conv = await line.conv(1)
    assert conv.specialist_category == "Parenting stress"
    assert conv.specialist_note == "Bedtime struggles; parent felt calmer."
    async with line.db.read() as s:
        stats = {d.metric: d.value for d in await s.scalars(select(DailyStat))}
    assert stats["conversations_requested"] == 1 and stats["handoffs"] == 1
    assert stats["surveys"] == 1 and stats["ended"] == 1


async def test_forged_button_is_answered_kindly(line: Line) -> None:
    await on_duty(line, ANA)
    forged = Inbound(
        kind="callback",
        chat_id=ANA,
        user_id=ANA,
        callback_id="c",
        callback_data="h.take|1|aaaaaaaa",
    )
    acts = await line.staff(ANA, forged)
    assert any(isinstance(a, AnswerCallback) and a.text for a in acts)


# --- duty, caps, races ---------------------------------------------------------------------


async def test_offduty_hands_conversations_over_or_back_to_front(line: Line) -> None:
    await on_duty(line, ANA)
    await line.talk(1)
    await line.talk(2)
    await line.staff(ANA, cmd(ANA, "next"))
    await line.staff(ANA, cmd(ANA, "next"))
    await on_duty(line, BEN)
    await line.talk(4)  # someone else is waiting; the handed-back parent goes before them
    async with line.db.tx() as s:  # Ben can take only one more
        await s.execute(update(Staff).where(Staff.tg_user_id == BEN).values(max_active=1))
    acts = await line.staff(ANA, cmd(ANA, "offduty"))
    c1, c2 = await line.conv(1), await line.conv(2)
    assert {c1.status, c2.status} == {"active", "queued"}
    moved, back = (c1, c2) if c1.status == "active" else (c2, c1)
    assert moved.specialist_id == BEN and back.front_of_queue
    back_chat = 9000 + back.parent_id
    assert texts_to(acts, back_chat)  # told kindly, with their place
    assert (await line.row(Staff, ANA)).on_duty is False
    acts = await line.staff(COORD, cmd(COORD, "onduty"))
    onduty = texts_to(acts, COORD)[0]
    assert onduty.index(f"Parent {'K7Q2' if back.parent_id == 1 else 'M3P9'}") < onduty.index(
        "Parent Z8X1"
    )


async def test_cap_and_off_duty_cannot_take(line: Line) -> None:
    await line.talk(1)
    conv = await line.conv(1)
    take = Inbound(
        kind="callback",
        chat_id=ANA,
        user_id=ANA,
        callback_id="c",
        callback_data=_sign(line, ANA, "h.take", str(conv.id)),
    )
    acts = await line.staff(ANA, take)
    assert t("staff.not_on_duty") in texts_to(acts, ANA)
    await on_duty(line, ANA)
    await line.talk(2)
    await line.talk(4)
    for _ in range(2):
        await line.staff(ANA, cmd(ANA, "next"))
    acts = await line.staff(ANA, cmd(ANA, "next"))
    assert t("staff.at_cap", max_active=2) in texts_to(acts, ANA)


def _sign(line: Line, chat: int, action: str, arg: str) -> str:
    from flows.callbacks import encode

    return encode(line.settings.secret, chat, action, arg)


async def test_two_takes_exactly_one_wins(line: Line) -> None:
    await on_duty(line, ANA, BEN)
    acts = await line.talk(1)
    a, b = press(acts, ANA, "h.take"), press(acts, BEN, "h.take")
    ra, rb = await asyncio.gather(line.staff(ANA, a), line.staff(BEN, b))
    lost = [t("staff.already_taken") in texts_to(r, s) for r, s in ((ra, ANA), (rb, BEN))]
    assert sorted(lost) == [False, True]


async def test_claim_race_sqlite_100(line: Line) -> None:
    await on_duty(line, ANA, BEN)
    for _ in range(100):
        async with line.db.tx() as s:
            conv = Conversation(
                parent_id=3,
                queued_at=OPEN,
                status="queued",
                resources_shared=[],
                handoff_notes=[],
                declined_by=[],
            )
            s.add(conv)
            await s.flush()
            cid = conv.id

        async def one(sid: int, cid: int = cid) -> str:
            async with line.db.tx() as s:
                return await claim(s, cid, sid, OPEN)

        results = await asyncio.gather(one(ANA), one(BEN))
        assert sorted(results) == ["taken", "won"]  # exactly one wins, every time
        async with line.db.tx() as s:  # free the slot again
            await s.execute(
                update(Conversation).where(Conversation.id == cid).values(status="ended")
            )


# --- several conversations ---------------------------------------------------------------


async def test_replies_route_and_ambiguous_message_is_held_then_assigned(line: Line) -> None:
    await on_duty(line, BEN)
    await line.talk(1)
    await line.talk(2)
    await line.staff(BEN, cmd(BEN, "next"))
    await line.staff(BEN, cmd(BEN, "next"))
    await line.parent(1, text(P1, "from one"))
    await line.parent(2, text(P2, "from two"))
    reply_to_2 = line.last_id(BEN, lambda a: isinstance(a, CopyMessage) and a.from_chat_id == P2)
    acts = await line.staff(BEN, text(BEN, "thanks for telling me, second parent",
                                      reply_to=reply_to_2))
    assert copies_to(acts, P2) and not copies_to(acts, P1)

    acts = await line.staff(BEN, text(BEN, "who is this for?"))
    assert not copies_to(acts, P1) and not copies_to(acts, P2)
    assert t("staff.which_parent") in texts_to(acts, BEN)
    async with line.db.read() as s:
        held = (await s.scalars(select(HeldMessage))).one()
        assert held.reason == "ambiguous" and held.resolved_at is None
    acts = await line.staff(BEN, press(acts, BEN, "h.to", "K7Q2"))
    assert copies_to(acts, P1) and not copies_to(acts, P2)
    assert (await line.row(HeldMessage, held.id)).resolved_at is not None


async def test_nudge_hold_send_anyway_and_never_in_crisis(line: Line) -> None:
    await on_duty(line, ANA)
    await line.talk(1)
    await line.staff(ANA, cmd(ANA, "next"))
    advice = "You should increase the dose of his medication to 20 mg."
    from flows.safety.nudge import looks_like_clinical_advice

    assert looks_like_clinical_advice(advice, "en") is not None
    acts = await line.staff(ANA, text(ANA, advice))
    assert not copies_to(acts, P1) and t("staff.nudge") in texts_to(acts, ANA)
    acts = await line.staff(ANA, press(acts, ANA, "h.nudge_send"))
    assert copies_to(acts, P1)
    await line.crisis(1)
    acts = await line.staff(ANA, text(ANA, advice))
    assert copies_to(acts, P1)


# --- language, after hours, crisis ----------------------------------------------------------


async def test_spanish_parent_with_no_spanish_specialist(line: Line) -> None:
    await on_duty(line, ANA)
    acts = await line.talk(3)
    assert t("handoff.no_language_peer", "es") in texts_to(acts, P3)
    assert any("lugar 1" in x for x in texts_to(acts, P3))
    acts = await line.staff(ANA, cmd(ANA, "next"))
    assert t("staff.queue_empty") in texts_to(acts, ANA)
    await line.parent(3, _press_from(line, P3, "h.goahead"))
    assert (await line.conv(3)).any_language_ok
    acts = await line.staff(ANA, cmd(ANA, "next"))
    assert (await line.conv(3)).specialist_id == ANA


def _press_from(line: Line, chat: int, action: str) -> Inbound:
    acts = [a for _, a in line.sent.get(chat, [])]
    return press(acts, chat, action)


async def test_after_hours_message_waits_for_the_next_shift(line: Line) -> None:
    line.now = CLOSED
    acts = await line.talk(1)
    said = "\n".join(texts_to(acts, P1))
    assert t("handoff.leave_message") in said
    assert "988" in said  # the 24/7 lines, without a crisis script for a parent not in crisis
    assert t("crisis.general") not in said and t("crisis.cannot_see_location") not in said
    conv = await line.conv(1)
    assert conv.after_hours and conv.status == "queued"
    await line.parent(1, text(P1, "my daughter ran away last night"))
    acts = await line.parent(1, text(P1, "she is back now"))
    assert t("handoff.note_kept") not in texts_to(acts, P1)  # acknowledged once only
    line.now = OPEN
    acts = await line.staff(ANA, cmd(ANA, "onduty"))
    assert "K7Q2" in texts_to(acts, ANA)[0]
    acts = await line.staff(ANA, press(acts, ANA, "h.take"))
    assert t("handoff.peer_joined_after_hours", name="Ana") in texts_to(acts, P1)
    assert "ran away" in texts_to(acts, ANA)[0]


async def test_crisis_alerts_everyone_without_the_parents_words(line: Line) -> None:
    await on_duty(line, ANA, BEN)
    await line.talk(2)
    acts = await line.talk(1, note="I can't go on")
    acts = await line.crisis(1, "suicide")
    for chat in (ANA, BEN, STAFF_CHAT):
        said = "\n".join(texts_to(acts, chat))
        assert "CRISIS" in said and "K7Q2" in said and "suicide" in said
        assert "go on" not in said
    conv = await line.conv(1)
    assert conv.priority == "crisis" and conv.crisis
    acts = await line.staff(BEN, cmd(BEN, "next"))
    assert (await line.conv(1)).specialist_id == BEN
    async with line.db.read() as s:
        entry = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "crisis_escalation"))
        ).one()
    assert entry.pseudonym == "K7Q2" and entry.evidence == ["rule:suicide-1"]
    # a crisis conversation is never closed by a timeout
    line.now = OPEN + timedelta(hours=3)
    assert not await line.job("h.quiet")
    # ending asks how it ended and tells coordinators
    acts = await line.staff(BEN, cmd(BEN, "end"))
    acts = await line.staff(BEN, press(acts, BEN, "h.outcome", "safe"))
    assert texts_to(acts, COORD)
    assert (await line.conv(1)).end_outcome == "safe"


async def test_a_surge_queues_one_waiting_alert_per_specialist_at_a_time(line: Line) -> None:
    """Many parents asking at once must not put a minute of alerts (Telegram sends about
    one message a second into a chat) in front of a specialist's conversations."""
    await on_duty(line, ANA, BEN)

    async def talk_into_outbox(parent_id: int, earlier: tuple[Action, ...] = ()) -> list[Action]:
        async with line.db.tx() as session:
            ctx = Ctx(session=session, now=line.now, settings=line.settings, content=content(),
                      earlier=earlier)
            parent = await session.get(Parent, parent_id)
            assert parent is not None
            await api.request_peer(ctx, parent)
            await add_actions(session, ctx.actions, line.now)  # left undelivered
            return list(ctx.actions)

    first = await talk_into_outbox(1)
    assert texts_to(first, ANA) and texts_to(first, BEN)
    # Still on its way: the next parent is not announced separately...
    second = await talk_into_outbox(2)
    assert not texts_to(second, ANA) and not texts_to(second, BEN)
    assert "number 2 in line" in "\n".join(texts_to(second, P2))  # ...but does wait in line
    # ...nor within one batch, before the first alert reaches the outbox table.
    async with line.db.tx() as session:
        await session.execute(update(OutboxRow).values(status="sent"))
    batch = await talk_into_outbox(4, earlier=tuple(first))
    assert not texts_to(batch, ANA)
    # Once delivered, the next arrival is announced again; a crisis always is.
    async with line.db.tx() as session:
        await session.execute(update(OutboxRow).values(status="sent"))
    assert texts_to(await talk_into_outbox(3), BEN)
    crisis = await line.crisis(2, "suicide")
    assert any("CRISIS" in x for x in texts_to(crisis, ANA))
    assert any("CRISIS" in x for x in texts_to(crisis, BEN))


async def test_crisis_with_nobody_on_duty_alerts_coordinators(line: Line) -> None:
    acts = await line.crisis(1, "harm_to_child")
    said = "\n".join(texts_to(acts, COORD))
    assert "CRISIS" in said and "K7Q2" in said


async def test_crisis_in_active_conversation_alerts_that_specialist(line: Line) -> None:
    await on_duty(line, ANA, BEN)
    await line.talk(1)
    await line.staff(ANA, cmd(ANA, "next"))
    acts = await line.crisis(1)
    assert "CRISIS" in "\n".join(texts_to(acts, ANA)) and not texts_to(acts, BEN)


# --- timeouts, newpeer, report, unreachable, forget -----------------------------------------


async def test_quiet_parent_then_specialist_may_end_and_stale_queue(line: Line) -> None:
    await on_duty(line, ANA)
    await line.talk(1)
    await line.staff(ANA, cmd(ANA, "next"))
    await line.staff(ANA, text(ANA, "hello"))
    line.now = OPEN + timedelta(minutes=21)
    acts = await line.job("h.quiet")
    assert t("handoff.quiet_check") in texts_to(acts, P1)
    line.now = OPEN + timedelta(minutes=42)
    acts = await line.job("h.quiet")
    assert texts_to(acts, ANA) and (await line.conv(1)).status == "active"

    line.now = OPEN
    await line.talk(2)
    await line.talk(4)
    line.now = OPEN + timedelta(minutes=31)
    acts = await line.job("h.stale")
    assert t("handoff.still_want") in texts_to(acts, P2)
    acts = await line.parent(2, press(acts, P2, "h.still_no"))
    assert (await line.conv(2)).status == "ended"


async def test_newpeer_goes_to_front_and_report_decision_is_kept(line: Line) -> None:
    await on_duty(line, ANA, BEN, COORD)
    await line.talk(1)
    await line.talk(2)
    await line.staff(ANA, cmd(ANA, "next"))
    acts = await line.staff(ANA, cmd(ANA, "report"))
    acts = await line.staff(COORD, press(acts, COORD, "h.report", "made"))
    async with line.db.read() as s:
        rd = (await s.scalars(select(ReportDecision))).one()
    assert rd.decision == "made" and rd.coordinator_id == COORD and rd.staff_id == ANA

    acts = await line.parent(1, cmd(P1, "newpeer"))
    assert texts_to(acts, ANA)
    conv = await line.conv(1)
    assert conv.status == "queued" and conv.front_of_queue and ANA in conv.declined_by
    acts = await line.staff(BEN, cmd(BEN, "next"))
    assert (await line.conv(1)).specialist_id == BEN

    acts = await line.step(lambda ctx: _forget(ctx, 1))
    assert texts_to(acts, BEN)
    async with line.db.read() as s:
        assert (await s.scalars(select(ReportDecision))).one()


async def _forget(ctx: Ctx, parent_id: int) -> None:
    parent = await ctx.session.get(Parent, parent_id)
    assert parent is not None
    await api.forget_parent(ctx, parent)
    await ctx.session.delete(parent)


async def test_delivery_failed_ends_and_tells_specialist(line: Line) -> None:
    await on_duty(line, ANA)
    await line.talk(1)
    await line.staff(ANA, cmd(ANA, "next"))
    acts = await line.step(lambda ctx: api.delivery_failed(ctx, P1))
    assert texts_to(acts, ANA) and not texts_to(acts, P1)
    assert (await line.conv(1)).status == "ended"
    assert (await line.row(Parent, 1)).unreachable


async def test_coordinator_views_have_no_parent_words(line: Line) -> None:
    await on_duty(line, ANA, COORD)
    await line.talk(1, note="private words")
    acts = await line.staff(COORD, cmd(COORD, "queue"))
    assert "K7Q2" in texts_to(acts, COORD)[0] and "private" not in texts_to(acts, COORD)[0]
    acts = await line.staff(COORD, cmd(COORD, "who"))
    assert "Ana" in texts_to(acts, COORD)[0]
    acts = await line.staff(ANA, cmd(ANA, "queue"))
    assert t("staff.coordinators_only") in texts_to(acts, ANA)


# --- every key the code uses exists in both languages ------------------------------------


def test_every_text_key_exists_in_en_and_es() -> None:
    src = "\n".join(p.read_text() for p in (CONTENT_DIR.parent / "handoff").glob("*.py"))
    keys = set(re.findall(r'"((?:handoff|staff)\.[a-z_]+)"', src))
    keys |= {f"staff.btn_outcome_{o}" for o in ("safe", "emergency", "left")}
    keys |= {"staff.report_made", "staff.report_not_made"}
    missing = [(k, lang) for k in keys for lang in ("en", "es") if not content().has_text(k, lang)]
    assert not missing


# --- PostgreSQL: the claim race across real connections ----------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(
    not PG_URL, reason="set PARENTLINE_TEST_POSTGRES_URL to run the PostgreSQL race"
)
async def test_claim_race_postgres_20_claimers() -> None:
    assert PG_URL
    schema = f"t_{uuid.uuid4().hex[:10]}"
    db = await _db(PG_URL, schema)
    try:
        async with db.tx() as s:
            for i in range(20):
                await add_staff(s, 100 + i, f"S{i}", "specialist", ["en"], 1, [], OPEN)
            await s.execute(update(Staff).values(on_duty=True))
            s.add(
                Parent(
                    id=1,
                    pseudonym="PG01",
                    tg_user_id=1,
                    chat_id=1,
                    created_at=OPEN,
                    last_seen_at=OPEN,
                    flow_data={},
                )
            )
        for _ in range(10):
            async with db.tx() as s:
                conv = Conversation(
                    parent_id=1,
                    queued_at=OPEN,
                    status="queued",
                    resources_shared=[],
                    handoff_notes=[],
                    declined_by=[],
                )
                s.add(conv)
                await s.flush()
                cid = conv.id

            async def one(sid: int, cid: int = cid) -> str:
                async with db.tx() as s:
                    return await claim(s, cid, sid, OPEN)

            results = await asyncio.gather(*(one(100 + i) for i in range(20)))
            assert results.count("won") == 1, results
            async with db.tx() as s:
                await s.execute(
                    update(Conversation).where(Conversation.id == cid).values(status="ended")
                )
        # one specialist pressing Take on two conversations at once never passes the cap
        async with db.tx() as s:
            ids = []
            for _ in range(2):
                conv = Conversation(
                    parent_id=1,
                    queued_at=OPEN,
                    status="queued",
                    resources_shared=[],
                    handoff_notes=[],
                    declined_by=[],
                )
                s.add(conv)
                await s.flush()
                ids.append(conv.id)

        async def mine(cid: int) -> str:
            async with db.tx() as s:
                return await claim(s, cid, 100, OPEN)

        assert sorted(await asyncio.gather(*(mine(c) for c in ids))) == ["cap", "won"]
    finally:
        await db.drop_schema()
        await db.dispose()
