"""Lived-experience routing over the handoff harness of ``test_handoff``: what the flow
sends (a tag, or a topic's default), the parent's own wish in push mode, and the choice
to wait for such a peer or talk with the next one."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from test_handoff import (  # the harness and its fixtures
    ANA,
    BEN,
    P1,
    ROSA,
    STAFF_CHAT,
    Line,
    line,
    on_duty,
    press,
    t,
    texts_to,
)

from core.config import Settings
from core.storage.models import Parent
from flows.events import Action

__all__ = ["line"]  # the fixture, used by name


@pytest.fixture
def settings() -> Settings:
    return Settings(secret_key="test-secret", staff_chat_id=STAFF_CHAT, telegram_token="x",
                    assignment_mode="push")


def offered_to(actions: list[Action]) -> list[int]:
    return sorted({chat for chat in (ANA, BEN, ROSA) for x in texts_to(actions, chat)
                   if "best fit" in x or "mejor encaja" in x})


async def set_topic(line: Line, parent_id: int, topic: str) -> None:
    async with line.db.tx() as s:
        await s.execute(update(Parent).where(Parent.id == parent_id)
                        .values(flow_data={"topic": topic}))


async def test_a_topic_id_is_mapped_to_its_tag_and_an_unknown_tag_is_dropped(line: Line) -> None:
    await on_duty(line, BEN)
    await line.talk(1, experience="cw-investigation")  # what the flow used to send
    assert (await line.conv(1)).requested_experience == "child-welfare"
    await line.talk(2, experience="astrology", chosen=True)  # parent 2's topic: tantrums
    conv = await line.conv(2)
    assert conv.requested_experience is None and not conv.experience_only


async def test_the_topics_default_experience_routes_the_offer_to_the_peer_who_lived_it(
    line: Line,
) -> None:
    await on_duty(line, BEN, ROSA, ANA)  # Ana (iep) is not first in any tie-break
    await set_topic(line, 1, "school-iep")
    acts = await line.talk(1)
    assert offered_to(acts) == [ANA]
    offer = texts_to(acts, ANA)[0]
    assert t("staff.experience_suggested", label="an IEP or special education") in offer


async def test_a_chosen_wish_with_nobody_like_that_on_duty_waits_or_goes_to_the_next_peer(
    line: Line,
) -> None:
    await on_duty(line, ANA, BEN)
    acts = await line.talk(1, experience="child-welfare", chosen=True)
    assert offered_to(acts) == []  # nobody on duty has been through CPS: no one is offered it
    told = t("handoff.no_experience_peer", experience="CPS or foster care")
    assert told in texts_to(acts, P1)
    asked = acts
    acts = await line.parent(1, press(asked, P1, "h.xwait"))
    assert texts_to(acts, P1) == [t("handoff.will_wait_experience",
                                    experience="CPS or foster care")]
    assert (await line.conv(1)).experience_only

    # Later they change their mind: the other button of the same question still works.
    acts = await line.parent(1, press(asked, P1, "h.xnext"))
    assert t("handoff.next_peer_ok") in texts_to(acts, P1)
    [peer] = offered_to(acts)
    assert peer in (ANA, BEN)
    conv = await line.conv(1)
    assert not conv.experience_only and conv.requested_experience == "child-welfare"
