"""Crisis screening over real HTTP: first message, mid-flow, queued, with a specialist,
blocked — each gets the crisis lines within that one update, plus a CRISIS alert.
Idioms get neither."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import Line, Person
from sqlalchemy import select

from core.storage.models import AuditEntry, Conversation, Parent

SUICIDE = "i cant do this anymore. everyone would be better off without me"
MEDICAL = "I can't do this anymore, I took all my pills"
IDIOMS = [
    "this toddler is killing me",
    "I'm dead tired",
    "bedtime is murder",
    "I could kill for a coffee",
    "he says he'll die if he can't have the new phone",
    "I have bipolar and I'm stable on lithium",
    "I heard voices years ago, they're gone with meds",
]

@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every test here runs on SQLite and on PostgreSQL (issue #7)."""
    return str(request.param)


def t(line: Line, key: str, lang: str = "en") -> str:
    return line.runtime.content.current.text(key, lang)


async def on_duty(line: Line, uid: int = 7001) -> Person:
    peer = await line.specialist(uid, "Alex")
    peer.says("/onduty")
    await peer.reads()
    return peer


async def crisis_alert(peer: Person) -> dict:
    return await peer.fake.wait_for_message(peer.id, lambda m: "CRISIS" in (m["text"] or ""),
                                            timeout=10)


def no_parent_words(alert: dict, words: str) -> None:
    assert words[:20].lower() not in (alert["text"] or "").lower()


async def test_crisis_as_the_very_first_message(line: Line) -> None:
    peer = await on_duty(line)
    parent = line.parent(801)
    parent.says(SUICIDE)
    reply = await parent.reads(t(line, "crisis.suicide")[:40])
    assert "988" in reply["text"]
    assert t(line, "crisis.cannot_see_location")[:30] in "\n".join(parent.texts())
    alert = await crisis_alert(peer)
    no_parent_words(alert, SUICIDE)
    async with line.runtime.db.read() as s:
        conv = (await s.scalars(select(Conversation))).one()
        assert (conv.priority, conv.crisis_category) == ("crisis", "suicide")
        audit = list(await s.scalars(select(AuditEntry).where(
            AuditEntry.action == "crisis_detected")))
    assert audit and audit[0].evidence and "better off" not in str(audit[0].details)


async def test_medical_emergency_mid_flow_gets_911_and_poison_control(line: Line) -> None:
    peer = await on_duty(line)
    parent = line.parent(802)
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome")[:30])
    parent.says(MEDICAL)
    reply = await parent.reads(t(line, "crisis.medical_emergency")[:40])
    assert "911" in reply["text"] and "1-800-222-1222" in reply["text"]
    await crisis_alert(peer)
    # They can answer in their own words; they are not sent back into a menu.
    parent.says("I'm safe now, I'd still like to talk")
    await parent.fake.wait_until(lambda: len(parent.texts()) >= 3, timeout=10)
    assert t(line, "parent.ask_help") not in parent.texts()[-1]


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "i can't do this anymore. i took all my pills"),
    ("es", "ya no puedo más. me tomé todas las pastillas"),
])
async def test_an_overdose_with_suicidal_words_lists_911_poison_control_and_988(
    line: Line, lang: str, text: str
) -> None:
    parent = line.parent(812, lang)
    parent.says(text)
    reply = (await parent.reads(t(line, "crisis.medical_emergency", lang)[:40]))["text"]
    lines = reply.split("\n\n")[1]
    assert "911" in lines and "1-800-222-1222" in lines and "988" in lines
    assert lines.index("911") < lines.index("1-800-222-1222") < lines.index("988")


async def test_crisis_while_queued_moves_to_the_front(line: Line) -> None:
    first = line.parent(803)
    await first.talks()
    await first.reads()
    second = line.parent(804)
    await second.talks()
    await second.reads()
    second.says("she said she wants to disappear forever and I found cuts on her arm")
    reply = await second.reads(t(line, "crisis.child_in_danger")[:40])
    assert "1-800-422-4453" in reply["text"]  # Childhelp
    async with line.runtime.db.read() as s:
        convs = list(await s.scalars(select(Conversation).order_by(Conversation.id)))
    assert [c.priority for c in convs] == ["normal", "crisis"]
    peer = await on_duty(line)
    peer.says("/next")
    summary = await peer.reads("Parent ")
    async with line.runtime.db.read() as s:
        taken = (await s.scalars(select(Conversation).where(
            Conversation.status == "active"))).one()
        p = await s.get(Parent, taken.parent_id)
    assert p is not None and p.tg_user_id == 804, summary


async def test_crisis_during_a_relayed_conversation_alerts_that_specialist(line: Line) -> None:
    peer = await on_duty(line)
    parent = line.parent(805)
    await parent.talks()
    await peer.reads("Parent ")  # the new-request alert
    peer.says("/next")
    await parent.reads("has joined")
    parent.says("he choked me last night and im scared to go home")
    reply = await parent.reads(t(line, "crisis.domestic_violence")[:40])
    assert "1-800-799-7233" in reply["text"]
    alert = await crisis_alert(peer)
    no_parent_words(alert, "he choked me")
    # The specialist still sees the parent's own words, relayed.
    await peer.fake.wait_until(
        lambda: any("choked" in x for x in peer.texts()), timeout=10)


async def test_a_blocked_user_still_gets_crisis_lines(line: Line) -> None:
    coord = await line.specialist(7002, "Coord", role="coordinator")
    parent = line.parent(806)
    parent.says("hello")
    await parent.reads()
    async with line.runtime.db.tx() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == 806))).one()
        p.blocked_until = datetime.now(UTC) + timedelta(hours=2)
    parent.says("more spam")
    parent.says(SUICIDE)
    await parent.reads(t(line, "crisis.suicide")[:40])
    assert not any("spam" in x for x in parent.texts())
    alert = await crisis_alert(coord)  # nobody on duty: coordinators hear it privately
    no_parent_words(alert, SUICIDE)


@pytest.mark.parametrize("idiom", IDIOMS)
async def test_idioms_and_disclosures_are_not_a_crisis(line: Line, idiom: str) -> None:
    peer = await on_duty(line)
    parent = line.parent(807)
    parent.says("/start")
    await parent.reads(t(line, "parent.welcome")[:30])
    parent.says(idiom)
    await parent.reads()
    texts = "\n".join(parent.texts())
    assert "988" not in texts and "911" not in texts
    assert not any("CRISIS" in x for x in peer.texts())
