"""The parent's own handoff card: seen, changed and sent before anyone is asked to come."""

from __future__ import annotations

from parent_transcript import CHAT, SECRET, Chat

from flows.callbacks import encode
from flows.content import Content, Region
from flows.effects import RequestPeer
from flows.parent.card import LINE_MAX
from flows.safety import assess

STORY = "CPS came to my house today and opened an investigation"


def _peers(chat: Chat) -> list[RequestPeer]:
    return [e for e in chat.effects if isinstance(e, RequestPeer)]


def _card_for(content: Content, lang: str = "en", story: str = STORY) -> Chat:
    chat = Chat(content, language_code=lang)
    chat.say("/start")
    chat.say(story)
    chat.snap.region = Region("78701", "TX", "Travis County")
    chat.press("parent.buttons.person")
    assert chat.snap.state == "reviewing_card"
    return chat


def test_the_card_shows_what_the_peer_will_read_and_nothing_is_queued_yet(
        content: Content) -> None:
    chat = _card_for(content)
    [card] = chat.texts()
    assert card == chat.t(
        "parent.card.show", topic="A CPS investigation", line=chat.t("parent.card.no_line"),
        language="English", experience=chat.t("parent.card.anyone"),
        region="Travis County, TX, 78701")
    assert STORY not in card  # what they told the bot is not passed on by itself
    assert chat.labels() == [chat.t(k) for k in (
        "parent.buttons.card_send", "parent.buttons.card_no_topic",
        "parent.buttons.card_no_region", "parent.buttons.card_experience")]
    assert _peers(chat) == []


def test_a_typed_line_a_removed_region_and_a_wish_are_what_is_sent(content: Content) -> None:
    chat = _card_for(content)
    chat.say("We have a home visit on Friday and I don't know my rights")
    assert "In your words: We have a home visit on Friday" in chat.texts()[0]
    chat.press("parent.buttons.card_no_region")
    assert "Travis County" not in chat.texts()[0]
    chat.press("parent.buttons.card_experience")
    chat.press("CPS or foster care")
    assert chat.snap.state == "reviewing_card"
    [card] = chat.texts()
    assert chat.t("parent.card.experience", label="CPS or foster care") in card
    assert "We have a home visit on Friday" in card  # a change keeps the rest of the card
    assert _peers(chat) == []
    chat.press("parent.buttons.card_send")
    assert _peers(chat) == [RequestPeer(
        note="We have a home visit on Friday and I don't know my rights",
        experience="child-welfare", chosen=True, card=True, topic="cw-investigation",
        region=False)]
    assert chat.snap.state == "handed_off" and "card" not in chat.snap.data


def test_taking_the_topic_and_the_line_out_sends_neither(content: Content) -> None:
    chat = _card_for(content)
    chat.say("Please do not judge me")
    chat.press("parent.buttons.card_no_line")
    chat.press("parent.buttons.card_no_topic")
    [card] = chat.texts()
    assert "A CPS investigation" not in card and "judge" not in card
    assert chat.t("parent.buttons.card_no_topic") not in chat.labels()
    chat.say("/talk")  # /talk again sends the card as it is
    # No topic on the card: no soft preference from it either.
    assert _peers(chat) == [RequestPeer(note=None, experience=None, chosen=False, card=True,
                                        topic=None, region=True)]


def test_a_long_line_is_cut_and_the_parent_is_told(content: Content) -> None:
    chat = _card_for(content)
    chat.say("word " * 200)
    cut, card = chat.texts()
    assert cut == chat.t("parent.card.line_cut")
    line = card.split("In your words: ")[1].split("\n")[0]
    assert line.endswith("…") and len(line) <= LINE_MAX + 1


def test_fear_of_a_report_on_the_card_gets_the_honest_answer_and_the_card_again(
        content: Content) -> None:
    chat = _card_for(content)
    text = "will you call CPS on me if I tell the peer everything?"
    a = assess(text, "en")
    assert a.fear_of_report
    chat.say(text, assessment=a)
    answer, card = chat.texts()
    assert answer == chat.t("privacy.report_fear")
    assert chat.t("parent.card.no_line") in card  # a question is not taken as the line
    assert chat.snap.state == "reviewing_card"


def test_the_card_in_spanish(content: Content) -> None:
    chat = _card_for(content, "es", "Mi hijo tiene berrinches todos los días y ya no puedo")
    [card] = chat.texts()
    assert card.startswith("Antes de buscar")
    assert "Idioma: Español" in card
    assert chat.labels()[0] == content.text("parent.buttons.card_send", "es")


def test_a_card_button_after_the_card_was_sent_is_an_expired_button(content: Content) -> None:
    chat = _card_for(content)
    chat.press("parent.buttons.card_send")
    chat.snap.in_handoff = False  # the conversation ended; an old card stays on the phone
    chat.snap.state = "listening"
    chat.press_data(encode(SECRET, CHAT, "cd", "send"))
    assert chat.texts() == [chat.t("common.expired_button")]
    assert len(_peers(chat)) == 1


def test_moving_on_from_the_card_keeps_none_of_its_words(content: Content) -> None:
    chat = _card_for(content)
    chat.say("We have a home visit on Friday")
    assert chat.snap.data["card"]["line"]
    chat.press_data(encode(SECRET, CHAT, "h", "res"))  # "resources" from an earlier message
    assert chat.snap.state != "reviewing_card"
    assert "card" not in chat.snap.data
    chat.say("/talk")
    assert chat.t("parent.card.no_line") in chat.texts()[0]  # a new card, nothing carried
