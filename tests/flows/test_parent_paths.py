"""Whole conversations, English and Spanish: welcome to a real person, in order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from parent_transcript import NOW, Chat

from flows.content import Content
from flows.effects import (
    PlanChosen,
    RequestPeer,
    ResourcesShared,
    ScheduleCheckin,
    SetRegion,
    TopicChosen,
)


def _topic_with_steps(content: Content) -> tuple[str, str]:
    """A topic that has next steps, and a story that names it in its own keywords."""
    for topic in content.topics:
        for lang, words in topic.keywords.items():
            if words and topic.next_steps.get(lang):
                return topic.id, words[0]
    raise AssertionError("content has no topic with keywords and next steps")


def _whole_path(content: Content, code: str, lang: str, zip_or_state: str) -> Chat:
    chat = Chat(content, language_code=code)
    chat.say("/start")
    assert chat.snap.lang == lang
    assert chat.t("parent.welcome") in chat.all_text()
    assert chat.t("privacy.short") in chat.all_text()
    assert chat.t("parent.invite") in chat.all_text()
    assert chat.snap.state == "welcomed"

    chat.say("It has been a really long week and I am worn out at home")
    assert chat.snap.state == "listening"
    assert chat.t("parent.ask_help") in chat.all_text()
    assert chat.is_reflection(chat.texts()[0])

    chat.press("parent.buttons.ideas")
    assert chat.snap.state == "choosing_topic"
    assert chat.t("parent.buttons.something_else") in chat.labels()

    topic_id, _ = _topic_with_steps(content)
    topic = content.topic(topic_id)
    assert topic is not None
    chat.press(topic.title.get(lang) or topic.title["en"])
    assert TopicChosen(topic_id) in chat.effects
    assert chat.snap.state == "sharing_strengths"
    assert (topic.strength_question.get(lang) or topic.strength_question["en"]) in chat.all_text()
    normalize = chat.t("parent.topic.normalize")
    assert (normalize in chat.all_text()) == (topic.tone == "common")

    chat.say("I keep going and I ask for help when I need it")
    assert chat.t("parent.strengths.thanks") in chat.all_text()
    assert chat.snap.state == "choosing_step"  # they asked for ideas, so no second question
    steps = topic.next_steps.get(lang) or topic.next_steps["en"]
    assert steps[0] in chat.all_text()

    chat.press("1")
    assert PlanChosen(0) in chat.effects
    assert chat.snap.state == "offering_checkin"
    assert chat.t("parent.checkin.offer") in chat.all_text()

    chat.press("parent.buttons.checkin_1")
    scheduled = [e for e in chat.effects if isinstance(e, ScheduleCheckin)]
    assert scheduled and scheduled[0].due_at == NOW + timedelta(days=1)
    assert chat.snap.state == "offering_resources"

    chat.press("parent.buttons.yes_please")
    assert chat.snap.state == "asking_region"
    chat.say(zip_or_state)
    assert any(isinstance(e, SetRegion) for e in chat.effects)
    if chat.snap.state == "asking_county":
        chat.say("Travis")
    assert chat.snap.state == "after_resources"
    assert chat.t("parent.resources.after") in chat.all_text()
    assert (
        any(isinstance(e, ResourcesShared) for e in chat.effects)
        or chat.t("parent.resources.rights_intro") in chat.all_text()
        or chat.t("parent.resources.none") in chat.all_text()
    )

    chat.press("parent.buttons.person")
    assert chat.snap.state == "reviewing_card"  # what the peer will read, before the queue
    chat.press("parent.buttons.card_send")
    default = content.experience_for_topic(topic_id)
    assert chat.effects[-1] == RequestPeer(note=None, experience=default.id if default else None,
                                           card=True, topic=topic_id,
                                           region=chat.snap.region is not None)
    assert chat.snap.state == "handed_off"
    assert chat.texts() == []  # the handoff part answers with the queue place
    return chat


def test_whole_path_in_english(content: Content) -> None:
    chat = _whole_path(content, "en-US", "en", "78701")
    assert chat.snap.region is not None and chat.snap.region.zip == "78701"


def test_whole_path_in_spanish(content: Content) -> None:
    chat = _whole_path(content, "es-MX", "es", "Texas")
    assert chat.snap.region is not None
    assert (chat.snap.region.state, chat.snap.region.county) == ("TX", "Travis")


def test_a_story_in_the_first_message_is_reflected_before_anything_else(content: Content) -> None:
    topic_id, keyword = _topic_with_steps(content)
    topic = content.topic(topic_id)
    assert topic is not None
    chat = Chat(content)
    chat.say(f"I need to talk, there is so much {keyword} going on with my son every day")
    first, second = chat.texts()
    assert first == topic.reflection["en"]
    assert chat.t("privacy.short") in second and chat.t("parent.ask_help") in second
    assert second.index(chat.t("privacy.short")) < second.index(chat.t("parent.ask_help"))
    assert TopicChosen(topic_id) in chat.effects
    assert chat.snap.state == "listening"


def test_a_greeting_gets_the_welcome_and_privacy_first(chat: Chat) -> None:
    chat.say("hi")
    assert chat.snap.state == "welcomed"
    text = chat.all_text()
    assert text.index(chat.t("parent.welcome")) < text.index(chat.t("privacy.short"))
    assert text.index(chat.t("privacy.short")) < text.index(chat.t("parent.invite"))


def test_venting_is_listened_to_without_pushing(chat: Chat) -> None:
    chat.say("/start")
    chat.say("Everything is a lot right now and I just need to say it somewhere")
    chat.press("parent.buttons.vent")
    assert chat.all_text() == chat.t("parent.vent")
    reflections = chat.content.text_list("parent.reflect.generic", "en")
    seen = []
    for _ in range(3):
        chat.say("and another thing happened today that made it worse again")
        seen.append(chat.texts()[0].split("\n\n")[0])
        assert chat.snap.state == "listening"
    assert all(chat.is_reflection(s) for s in seen)
    assert len(set(seen)) == min(3, len(reflections))  # not the same line every time


def test_something_else_path(chat: Chat) -> None:
    chat.say("/start")
    chat.say("It is hard to explain what is going on with us lately")
    chat.press("parent.buttons.ideas")
    chat.press("parent.buttons.something_else")
    assert chat.snap.state == "listening"
    assert chat.t("parent.topic.something_else") in chat.all_text()
    assert chat.t("parent.buttons.person") in chat.labels()


def test_free_text_names_the_topic(content: Content) -> None:
    topic_id, keyword = _topic_with_steps(content)
    chat = Chat(content)
    chat.say("/start")
    chat.say("Things are not easy at home and I am tired of it all")
    chat.press("parent.buttons.ideas")
    chat.say(f"mostly {keyword}")
    assert chat.snap.state == "sharing_strengths"
    assert TopicChosen(topic_id) in chat.effects


def test_own_step_and_ideas_only_when_asked(content: Content) -> None:
    _, keyword = _topic_with_steps(content)
    chat = Chat(content)
    chat.say(f"My kid and the {keyword} again, every single evening this week")
    chat.press("parent.buttons.resources")  # resources first; ideas are not pushed
    assert chat.snap.state == "asking_region"
    chat.press("parent.buttons.skip")
    assert chat.snap.state == "after_resources"
    chat.press("parent.buttons.ideas")
    assert chat.snap.state == "sharing_strengths"
    chat.say("I stay calm most of the time")
    assert chat.snap.state == "choosing_step"
    chat.press("parent.buttons.own_step")
    assert chat.snap.state == "writing_step"
    chat.say("I will try to go for a walk with her after dinner")
    assert PlanChosen(None) in chat.effects
    assert "walk" not in repr(chat.effects)  # the parent's plan is not stored


def test_ideas_are_offered_not_pushed(content: Content) -> None:
    topic_id, _ = _topic_with_steps(content)
    topic = content.topic(topic_id)
    assert topic is not None
    chat = Chat(content)
    chat.say("/start")
    chat.say("There is something going on that I need to talk about")
    chat.press("parent.buttons.ideas")
    chat.press(topic.title["en"])
    chat.snap.data.pop("goal")  # came to the topic without asking for ideas
    chat.say("I keep trying")
    assert chat.snap.state == "offering_ideas"
    assert chat.t("parent.ideas.offer") in chat.all_text()
    chat.say("well, it's complicated, my mother lives with us too")
    assert chat.snap.state == "offering_ideas"  # listened to, offer kept open
    assert chat.t("parent.buttons.yes_please") in chat.labels()
    chat.press("parent.buttons.not_now")
    assert chat.snap.state == "listening"
    assert chat.t("parent.ideas.declined") in chat.all_text()


def test_region_answers(chat: Chat) -> None:
    chat.say("/start")
    chat.say("/resources")
    assert chat.snap.state == "asking_region"
    chat.say("somewhere")
    assert chat.t("parent.region.not_understood") in chat.all_text()
    assert chat.snap.state == "asking_region"
    chat.say("TX, Travis County")
    assert SetRegion(None, "TX", "Travis") in chat.effects
    assert chat.snap.state == "after_resources"
    chat.say("/resources")  # asked once: not again
    assert chat.snap.state == "after_resources"


def test_region_is_never_a_trap(chat: Chat) -> None:
    chat.say("/resources")
    chat.say("not sure")
    chat.say("still not sure")
    assert chat.snap.state == "after_resources"
    assert chat.snap.data["region_asked"] is True


def test_skip_in_words(chat: Chat) -> None:
    chat.say("/resources")
    chat.say(chat.content.text_list("parent.region.skip_words", "en")[0])
    assert chat.snap.state == "after_resources"
    assert not any(isinstance(e, SetRegion) for e in chat.effects)


def test_demo_mode_shows_the_example_region_and_real_mode_never_does(content: Content) -> None:
    shared = {}
    for demo in (False, True):
        chat = Chat(content)
        chat.snap = replace(chat.snap, demo=demo)
        chat.say("/resources")
        chat.say("00012")  # a ZIP only the fictional example region serves
        ids = [i for e in chat.effects if isinstance(e, ResourcesShared) for i in e.ids]
        shared[demo] = ids
    assert not any(i.startswith("example-") for i in shared[False])
    assert any(i.startswith("example-") for i in shared[True])
