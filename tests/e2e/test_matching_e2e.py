"""Lived-experience matching and resources that fit the concern, over the fake Bot API.

A parent who asks for a peer who has been through CPS gets one when one is on duty;
one who asks when none is on duty is told so and chooses (wait, or the next peer).
A tantrum is never answered with the child-abuse hotline; a safety concern gets its line.
"""

from __future__ import annotations

from conftest import Line, Person
from sqlalchemy import select

from core.storage.models import Conversation, Parent

CPS_STORY = "CPS came to my house today and opened an investigation, I am so scared"


def t(line: Line, key: str, lang: str = "en", **params: object) -> str:
    return line.runtime.content.current.text(key, lang, **params)


async def duty(line: Line, uid: int, name: str, **kw: object) -> Person:
    peer = await line.specialist(uid, name, **kw)  # type: ignore[arg-type]
    peer.says("/onduty")
    await peer.reads("on duty")
    return peer


async def conv_of(line: Line, tg_id: int) -> Conversation:
    async with line.runtime.db.read() as s:
        p = (await s.scalars(select(Parent).where(Parent.tg_user_id == tg_id))).one()
        conv = (await s.scalars(select(Conversation).where(Conversation.parent_id == p.id)
                                .order_by(Conversation.id.desc()))).first()
        assert conv is not None
        return conv


async def ask_for_cps_peer(line: Line, parent: Person) -> None:
    parent.says("/start")
    parent.says(CPS_STORY)
    await parent.reads(t(line, "parent.ask_help")[:20])
    await parent.press(t(line, "parent.buttons.person_like_me"))
    await parent.reads(t(line, "parent.peer_choice")[:30])
    labels = parent.button_labels()
    assert labels[:2] == [t(line, "parent.buttons.anyone_free"), "CPS or foster care"]
    await parent.press("CPS or foster care")
    await parent.reads(t(line, "parent.card.show")[:30])
    await parent.press(t(line, "parent.buttons.card_send"))


async def test_a_parent_who_asks_for_a_cps_peer_gets_one(line: Line) -> None:
    ana = await duty(line, 7401, "Ana", experience=("iep",))
    cris = await duty(line, 7402, "Cris", experience=("child-welfare",))
    parent = line.parent(941)
    await ask_for_cps_peer(line, parent)
    await parent.reads(t(line, "handoff.experience_on_duty", experience="CPS or foster care"))
    await parent.reads("number 1 in line")
    conv = await conv_of(line, 941)
    assert conv.requested_experience == "child-welfare" and conv.experience_only

    alert = await cris.reads("would like to talk")
    assert "They asked for a peer who has been through CPS or foster care." in alert["text"]
    ana.says("/next")  # the wish is honoured: Ana has not been through CPS
    await ana.reads(t(line, "staff.queue_empty"))
    assert not any("would like to talk" in x for x in ana.texts())

    await cris.press("Take")
    summary = await cris.reads("Language:")
    assert "Would like: a peer who has been through CPS or foster care" in summary["text"]
    await parent.reads("Cris, a peer specialist, has joined")


async def test_no_cps_peer_on_duty_the_parent_is_told_and_waits_for_one(line: Line) -> None:
    ana = await duty(line, 7411, "Ana", experience=("iep",))
    parent = line.parent(942)
    await ask_for_cps_peer(line, parent)
    told = await parent.reads(
        t(line, "handoff.no_experience_peer", experience="CPS or foster care"))
    labels = [b["text"] for row in told["buttons"] for b in row]
    assert labels == [t(line, "handoff.btn_wait_experience"), t(line, "handoff.btn_next_peer")]
    await parent.reads("number 1 in line")
    await parent.press(t(line, "handoff.btn_wait_experience"))
    await parent.reads(t(line, "handoff.will_wait_experience", experience="CPS or foster care"))

    ana.says("/next")
    await ana.reads(t(line, "staff.queue_empty"))
    assert not any("would like to talk" in x for x in ana.texts())

    cris = await line.specialist(7412, "Cris", experience=("child-welfare",))
    cris.says("/onduty")
    listed = await cris.reads("on duty")
    assert "(waits for a peer who has been through CPS or foster care)" in listed["text"]
    cris.says("/next")
    summary = await cris.reads("Language:")
    assert "Would like: a peer who has been through CPS or foster care" in summary["text"]
    await parent.reads("Cris, a peer specialist, has joined")


async def test_no_cps_peer_on_duty_the_parent_chooses_the_next_peer(line: Line) -> None:
    ana = await duty(line, 7421, "Ana")
    parent = line.parent(943, lang="es")
    parent.says("/start")
    parent.says("Los de CPS vinieron a mi casa y abrieron una investigación, tengo miedo")
    # Afraid of CPS: the honest privacy answer, and the choice of a peer who lived it.
    await parent.reads(t(line, "privacy.report_fear", "es")[:30])
    await parent.press(t(line, "parent.buttons.person_like_me", "es"))
    await parent.reads(t(line, "parent.peer_choice", "es")[:30])
    await parent.press("CPS o un hogar de crianza")
    await parent.reads(t(line, "parent.card.show", "es")[:30])
    await parent.press(t(line, "parent.buttons.card_send", "es"))
    await parent.reads(
        t(line, "handoff.no_experience_peer", "es", experience="CPS o un hogar de crianza"))
    await parent.press(t(line, "handoff.btn_next_peer", "es"))
    await parent.reads(t(line, "handoff.next_peer_ok", "es"))
    conv = await conv_of(line, 943)
    assert conv.requested_experience == "child-welfare" and not conv.experience_only

    alert = await ana.reads("would like to talk")
    assert "A peer who has been through CPS or foster care would fit well (not required)." \
        in alert["text"]
    await ana.press("Take")
    await ana.reads("Language:")
    await parent.reads("Ana")


async def share_resources(line: Line, parent: Person, story: str) -> str:
    parent.says("/start")
    parent.says(story)
    await parent.reads(t(line, "parent.ask_help")[:20])
    await parent.press(t(line, "parent.buttons.resources"))
    await parent.reads(t(line, "parent.region.ask")[:20])
    await parent.press(t(line, "parent.buttons.skip"))
    shown = await parent.reads(t(line, "parent.resources.intro")[:20])
    await parent.reads(t(line, "parent.resources.after")[:20])
    return str(shown["text"])


async def test_a_tantrum_is_not_offered_the_child_abuse_hotline(line: Line) -> None:
    parent = line.parent(951)
    shown = await share_resources(
        line, parent, "My toddler has a tantrum every single night and I am exhausted")
    assert "National Parent Helpline" in shown
    everything = "\n".join(parent.texts())
    for line_name in ("Childhelp", "988", "Crisis Text Line", "Domestic Violence"):
        assert line_name not in everything


async def test_a_safety_concern_is_offered_its_safety_line(line: Line) -> None:
    parent = line.parent(952)
    shown = await share_resources(
        line, parent, "My ex keeps showing up and the custody schedule is a mess")
    assert "National Domestic Violence Hotline" in shown
    assert "Childhelp" not in "\n".join(parent.texts())
