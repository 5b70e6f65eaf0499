"""Asking directly, and reading the conversation rather than one message.

Crisis counsellors who are unsure do not guess: they ask plainly whether the person is
thinking about ending their life, or about hurting themselves or someone else.
Asking does not plant the idea; it tells the parent they can say it. So when the risk
model is unsure (``Assessment.concern``), the line asks, with three buttons; "yes" and
"not sure" get the full crisis response, "no" a warm line and the conversation goes on.
The question is not asked again while it waits for an answer, nor for the same thing
soon after a "no" — being asked twice in a row feels like not being heard.

A plan is sometimes told in pieces ("saved up my pills" ... "tonight"). The parent's
last few messages are kept (in the database, with the parent, for an hour at most) and
read together by the model. Pure functions over plain data: the caller stores the
window and the question's state wherever the parent's row lives.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

WINDOW_MESSAGES = 4  # the last few messages are read together...
WINDOW_MINUTES = 60  # ...if they came within the hour; older ones are forgotten
WINDOW_CHARS = 600  # of each message (a plan is a sentence, not an essay)
ASK_AGAIN_MINUTES = 30  # after a "no", the same concern is not asked about again so soon
ACTION = "sq"  # the buttons' callback action; args below
YES, NO, NOT_SURE = "y", "n", "u"

Window = list[list[str]]  # [[iso timestamp, text], ...], oldest first


def push(window: Window | None, text: str, now: datetime) -> Window:
    """The window after this message: the last few texts of the last hour."""
    cutoff = now - timedelta(minutes=WINDOW_MINUTES)
    kept = [entry for entry in (window or []) if _at(entry) >= cutoff]
    kept.append([now.isoformat(), text[:WINDOW_CHARS]])
    return kept[-WINDOW_MESSAGES:]


def texts(window: Window | None) -> list[str]:
    return [entry[1] for entry in (window or [])]


def _at(entry: list[str]) -> datetime:
    try:
        return datetime.fromisoformat(entry[0])
    except (ValueError, IndexError):
        return datetime.min.replace(tzinfo=None)


def should_ask(state: dict[str, Any] | None, about: str | None, now: datetime) -> bool:
    """Whether to ask now: never while a question waits, nor about the same thing soon
    after a "no"."""
    if not state:
        return True
    try:
        at = datetime.fromisoformat(str(state.get("at")))
    except ValueError:
        return True
    if at.tzinfo is None and now.tzinfo is not None:
        at = at.replace(tzinfo=now.tzinfo)
    recent = now - at < timedelta(minutes=ASK_AGAIN_MINUTES)
    if state.get("answer") is None:
        return not recent  # the last question still waits: do not ask twice in a row
    return state.get("about") != about or not recent


def asked(about: str | None, now: datetime) -> dict[str, Any]:
    """The state to keep after asking."""
    return {"at": now.isoformat(), "about": about, "answer": None}


def answered(state: dict[str, Any] | None, answer: str) -> dict[str, Any]:
    return {**(state or {}), "answer": answer}
