"""Bad input gets a clear, kind answer (or a deliberate silence) and loses nothing.

Stickers, photos, voice notes, contacts, locations, polls, edits, 10,000-character texts,
empty text, right-to-left text and emoji, forwarded messages, groups, channel posts,
forged buttons, unknown commands, floods, blocks, a parent who blocks the bot, and
webhook requests without the secret.
"""

from __future__ import annotations

import json

import aiohttp
import pytest
from conftest import Line, line_settings
from sqlalchemy import func, select

from bot.app.runtime import LineRuntime
from core.storage.models import Conversation, InboxRow, Parent
from fake_telegram import FakeTelegram

KINDS = ["sticker", "photo", "voice", "video_note", "contact", "location", "poll"]


def t(line: Line, key: str, lang: str = "en", **kw: object) -> str:
    return line.runtime.content.current.text(key, lang, **kw)


async def _welcomed(line: Line, uid: int):  # type: ignore[no-untyped-def]
    parent = line.parent(uid)
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome")[:30])
    return parent


@pytest.mark.parametrize("kind", KINDS)
async def test_media_gets_a_kind_answer(line: Line, kind: str) -> None:
    parent = await _welcomed(line, 1101)
    parent.sends_media(kind)
    reply = await parent.reads()
    assert reply["text"] and "error" not in reply["text"].lower()
    assert reply["text"] != t(line, "common.fallback_error")


async def test_edits_long_empty_rtl_forwarded_and_unknown(line: Line) -> None:
    parent = await _welcomed(line, 1102)
    sent = parent.says("It has been a really long week and I am worn out")
    await parent.reads(t(line, "parent.ask_help")[:20])
    line.fake.user_edits(parent.id, sent["message_id"], "edited words")
    await parent.reads(t(line, "common.edited_ignored")[:20])

    parent.says("x" * 10_000)
    assert (await parent.reads())["text"]
    parent.says("   ")
    assert (await parent.reads())["text"]
    parent.says("مرحبا، أنا متعبة جدا 😢🙏")
    assert (await parent.reads())["text"]
    parent.says("forwarded from a friend: bedtime tips", forwarded=True)
    assert (await parent.reads())["text"]
    parent.says("/frobnicate")
    await parent.reads(t(line, "common.unknown_command")[:20])
    assert not any(t(line, "common.fallback_error") in x for x in parent.texts())


async def test_forged_and_stale_buttons_are_refused_kindly(line: Line) -> None:
    parent = await _welcomed(line, 1103)
    msg = line.fake.messages_to(parent.id)[-1]
    line.fake.user_presses(parent.id, msg["message_id"], "h.take|1|aaaaaaaa")
    await parent.fake.wait_until(lambda: any(c["answered"] for c in line.fake.callbacks()), 10)
    peer = await line.specialist(1199, "Alex")
    peer.says("/onduty")
    duty = await peer.reads("on duty")
    line.fake.user_presses(peer.id, duty["message_id"], "h.take|1|forged00")
    await line.fake.wait_until(
        lambda: sum(1 for c in line.fake.callbacks() if c["answered"]) >= 2, 10)
    async with line.runtime.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Conversation)) == 0


async def test_groups_and_channels_are_left_politely(line: Line) -> None:
    line.fake.create_user(1104, "Someone")
    line.fake.add_bot_to_group(-5001, 1104)
    await line.fake.wait_until(lambda: any(r.method == "leaveChat"
                                           for r in line.fake.requests()), 10)
    line.fake.channel_post(-1009, "news")
    await line.fake.wait_until(lambda: sum(r.method == "leaveChat"
                                           for r in line.fake.requests()) >= 2, 10)
    assert any(t(line, "common.group_not_supported")[:20] in x
               for x in line.fake.texts_to(-5001))


async def test_a_flood_is_slowed_and_still_screened(line: Line) -> None:
    parent = await _welcomed(line, 1105)
    other = await _welcomed(line, 1106)
    for i in range(40):
        parent.says(f"message number {i} again and again")
    parent.says("i want to kill myself tonight")
    other.says("It has been a really long week and I am worn out")
    await other.reads(t(line, "parent.ask_help")[:20])  # not crowded out
    # Replies to one chat go out at about one a second, so allow time.
    await parent.saw(t(line, "common.slow_down")[:20], timeout=30)
    await parent.saw(t(line, "crisis.suicide")[:30], timeout=30)  # screened mid-flood
    assert len(parent.texts()) < 15  # not one answer per message
    async with line.runtime.db.read() as s:
        kept = await s.scalar(select(func.count()).select_from(InboxRow)
                              .where(InboxRow.chat_id == 1105))
    assert kept >= 42  # every message kept


async def test_block_command_expires_and_is_for_coordinators(line: Line) -> None:
    coord = await line.specialist(1190, "Cora", role="coordinator")
    peer = await line.specialist(1191, "Pat")
    parent = await _welcomed(line, 1107)
    async with line.runtime.db.read() as s:
        code = (await s.scalars(select(Parent.pseudonym)
                                .where(Parent.tg_user_id == 1107))).one()
    peer.says(f"/block {code}")
    await peer.reads(t(line, "moderation.coordinators_only")[:20])
    coord.says(f"/block {code} 2")
    await coord.reads("blocked for 2 hours")
    parent.says("hello again")
    parent.says("i want to kill myself")
    await parent.reads(t(line, "crisis.suicide")[:30])
    assert not any("hello again" in x for x in parent.texts())
    coord.says(f"/unblock {code}")
    await coord.reads("unblocked")


async def test_a_parent_who_blocks_the_bot_ends_the_conversation(line: Line) -> None:
    peer = await line.specialist(1192, "Alex")
    peer.says("/onduty")
    await peer.reads("on duty")
    parent = line.parent(1108)
    await parent.talks()
    await parent.reads("in line")
    peer.says("/next")
    await parent.reads("has joined")
    line.fake.user_blocks_bot(parent.id)
    peer.says("are you still there?")
    await peer.reads("can't be reached")
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == 1108))).one()
        conv = (await s.scalars(select(Conversation))).one()
    assert p.unreachable and conv.status == "ended"


async def test_webhook_needs_the_secret_and_refuses_huge_bodies(
    fake_tg: FakeTelegram, tmp_path
) -> None:
    settings = line_settings(fake_tg, tmp_path / "wh.db", webhook_url="http://127.0.0.1:9/x",
                             webhook_secret="s3cret", web_port=0)
    runtime = LineRuntime(settings)
    await runtime.start()
    url = f"http://127.0.0.1:{runtime.web_port}/telegram/webhook"
    update = {"update_id": 77, "message": {"message_id": 1, "date": 1,
              "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False,
                                                          "first_name": "A"}, "text": "hi"}}
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as r:
                assert r.status == 401
            async with http.post(url, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
                assert r.status == 401
            big = json.dumps({"update_id": 78, "pad": "x" * 2_000_000})
            async with http.post(url, data=big, headers={
                    "X-Telegram-Bot-Api-Secret-Token": "s3cret",
                    "Content-Type": "application/json"}) as r:
                assert r.status == 413
            assert await inbox_count(runtime) == 0
            async with http.post(url, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}) as r:
                assert r.status == 200
            assert await inbox_count(runtime) == 1
    finally:
        await runtime.stop()


async def inbox_count(runtime: LineRuntime) -> int:
    async with runtime.db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(InboxRow)) or 0)
