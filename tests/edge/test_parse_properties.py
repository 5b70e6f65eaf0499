"""Property tests: update parsing is total and the callback codec can't be forged."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.telegram.updates import chat_id_of, parse_update, sanitize
from flows.callbacks import MAX_BYTES, CallbackTooLong, decode, encode

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=5),
    max_leaves=25,
)
update_keys = st.sampled_from(
    ["message", "edited_message", "callback_query", "channel_post", "my_chat_member",
     "chat_member", "poll", "inline_query"]
)


@st.composite
def plausible_updates(draw: Any) -> dict[str, Any]:
    """Update-shaped dicts whose fields may have any type: what a hostile client could send."""
    chat = draw(st.fixed_dictionaries({}, optional={
        "id": st.integers() | json_values, "type": st.sampled_from(
            ["private", "group", "supergroup", "channel"]) | json_values}))
    msg = draw(st.fixed_dictionaries({}, optional={
        "message_id": st.integers() | json_values,
        "chat": st.just(chat) | json_values,
        "from": st.fixed_dictionaries({"id": st.integers()}, optional={
            "first_name": st.text(), "username": st.text(), "language_code": json_values}),
        "text": st.text() | json_values,
        "caption": st.text() | json_values,
        "entities": st.lists(st.fixed_dictionaries({
            "type": st.sampled_from(["bot_command", "bold"]) | json_values,
            "offset": st.integers(-2, 5) | json_values,
            "length": st.integers(-2, 50) | json_values}), max_size=3) | json_values,
        "photo": json_values, "sticker": json_values, "date": st.integers() | json_values,
        "reply_to_message": json_values,
    }))
    key = draw(update_keys)
    return {"update_id": draw(st.integers()), key: msg if key != "callback_query" else {
        "id": draw(json_values), "from": msg.get("from", {}), "message": msg,
        "data": draw(st.text(max_size=80) | json_values)}}


@given(plausible_updates())
@settings(max_examples=400)
def test_parsing_never_raises_and_is_consistent(update: dict[str, Any]) -> None:
    ev = parse_update(update)
    assert isinstance(ev.chat_id, int)
    assert isinstance(chat_id_of(update), int)
    if ev.kind == "command":
        assert ev.command and "/" not in ev.command and "@" not in ev.command
    if ev.kind in ("text", "command"):
        assert isinstance(ev.text, str)


@given(json_values)
def test_parsing_arbitrary_json_never_raises(value: Any) -> None:
    parse_update(value)
    if isinstance(value, dict):
        chat_id_of(value)


@given(plausible_updates())
def test_sanitize_removes_every_name(update: dict[str, Any]) -> None:
    def keys(v: Any) -> set[str]:
        if isinstance(v, dict):
            return set(v) | {k for x in v.values() for k in keys(x)}
        if isinstance(v, list):
            return {k for x in v for k in keys(x)}
        return set()

    assert not keys(sanitize(update)) & {"first_name", "last_name", "username", "phone_number"}


def test_command_with_bot_name_and_args() -> None:
    ev = parse_update({"update_id": 1, "message": {
        "message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"}, "from": {"id": 5},
        "text": "/Talk@parentline_bot please", "entities": [
            {"type": "bot_command", "offset": 0, "length": 20}]}})
    assert (ev.kind, ev.command, ev.args) == ("command", "talk", "please")


def test_command_entity_over_empty_text_is_plain_text() -> None:
    """Found by the property above: a bot_command entity of length 0 on empty text."""
    ev = parse_update({"update_id": 1, "message": {
        "message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"}, "from": {"id": 5},
        "text": "", "entities": [{"type": "bot_command", "offset": 0, "length": 0}]}})
    assert ev.kind == "text" and ev.command is None


safe_text = st.text(st.characters(blacklist_characters="|"), max_size=20)


@given(st.binary(min_size=1, max_size=32), st.integers(), safe_text, safe_text)
def test_callback_round_trip(secret: bytes, chat: int, action: str, arg: str) -> None:
    try:
        data = encode(secret, chat, action or "a", arg)
    except CallbackTooLong:
        return
    assert len(data.encode("utf-8", "surrogatepass")) <= MAX_BYTES
    cb = decode(secret, chat, data)
    assert cb is not None and (cb.action, cb.arg) == (action or "a", arg)


@given(st.binary(min_size=1, max_size=32), st.integers(), safe_text, safe_text, st.integers())
def test_callback_for_another_chat_or_altered_is_refused(
    secret: bytes, chat: int, action: str, arg: str, other: int
) -> None:
    try:
        data = encode(secret, chat, action or "a", arg)
    except CallbackTooLong:
        return
    if other != chat:
        assert decode(secret, other, data) is None
    assert decode(secret, chat, data + "x") is None
    assert decode(secret, chat, data.replace("|", "|x", 1)) is None


@given(st.text(max_size=100))
def test_forged_callback_data_is_refused(data: str) -> None:
    assert decode(b"k", 1, data) is None or data.count("|") == 2
