"""Screening cost is bounded: the rules read at most 4,096 characters of a message (its
first and last halves when longer), and answers are remembered by text so a long message
screened in a worker thread is not screened again on the event loop."""

from __future__ import annotations

import threading

from flows import safety
from flows.safety import MAX_SCREENED_CHARS, assess, prescreen, screened_on, screened_part
from flows.safety.engine import assess_with

FILLER = "We had a long day at school and then the bus was late again. "
CRISIS = "I can't do this anymore, I want to kill myself."


def test_a_message_up_to_telegrams_limit_is_read_whole() -> None:
    text = (FILLER * 100)[:MAX_SCREENED_CHARS]
    assert MAX_SCREENED_CHARS == 4096
    assert screened_part(text) == text


def test_a_longer_text_is_read_in_its_first_and_last_parts() -> None:
    text = FILLER * 2000  # about 120,000 characters
    part = screened_part(text)
    assert len(part) <= MAX_SCREENED_CHARS + 1
    assert part.startswith(text[:2048]) and part.endswith(text[-2048:])
    rules = safety.active_rules()
    for long in (CRISIS + " " + text, text + " " + CRISIS):
        assert assess_with(rules, screened_part(long)).crisis
        assert assess(long).crisis
    # the halves are joined by a line break: no phrase is made of the end of one half
    # and the start of the other
    assert "\n" in part[2040:2060]


def test_answers_are_remembered_by_text_and_where_they_were_computed() -> None:
    text = "A long message that nobody has screened before. " + FILLER * 60
    assert screened_on(text) is None
    worker = threading.Thread(target=prescreen, args=([text],), name="screening-test")
    worker.start()
    worker.join()
    assert screened_on(text) == "screening-test"
    assert assess(text, "es") == assess(text, "en")  # the language does not change it
    assert screened_on(text) == "screening-test"  # a lookup, not screened again


def test_warm_up_runs_rules_and_model_once() -> None:
    safety.warm_up()
    for text in safety.WARM_UP_TEXTS:
        assert screened_on(text) is not None
