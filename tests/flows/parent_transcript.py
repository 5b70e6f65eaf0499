"""Transcript helper for the parent flow: a parent types, presses, and reads replies.

Everything is real: content is loaded from ``content/`` (or ``PARENTLINE_TEST_CONTENT``),
events are plain :class:`Inbound` objects, and effects are applied the way the
application applies them (region stored, handoff flag set), so a transcript reads like
a conversation. No clock: ``NOW`` is fixed.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.callbacks import encode
from flows.content import Content, Region, load_content
from flows.effects import (
    Effect,
    ForgetConfirmed,
    LanguageChanged,
    LeaveQueue,
    RequestPeer,
    SetRegion,
)
from flows.events import AnswerCallback, Button, Inbound, SendText
from flows.parent import FlowResult, ParentSnapshot, handle

SECRET = b"test-secret"
NOW = datetime(2026, 3, 10, 18, 30, tzinfo=UTC)  # a Tuesday afternoon in the US
CHAT = 4242
CONTENT_DIR = Path(os.environ.get("PARENTLINE_TEST_CONTENT", Path(__file__).parents[2] / "content"))

_loaded: Content | None = None


def load_test_content() -> Content:
    """The real content, loaded once (a broken content/ fails every flow test)."""
    global _loaded
    if _loaded is None:
        _loaded = load_content(CONTENT_DIR)
    return _loaded


class Chat:
    """One parent talking to the flow; keeps the snapshot like the application would."""

    def __init__(self, content: Content, language_code: str | None = "en", **data: Any) -> None:
        self.content = content
        self.language_code = language_code
        self.snap = ParentSnapshot(
            parent_id=7,
            chat_id=CHAT,
            lang="en",
            state="",
            data=dict(data),
            region=None,
            in_handoff=False,
        )
        self.result: FlowResult | None = None
        self.effects: list[Effect] = []
        self._msg = 100

    # -- sending ---------------------------------------------------------------------------

    def event(self, event: Inbound, assessment: Any = None) -> FlowResult:
        result = handle(self.snap, event, self.content, NOW, SECRET, assessment)
        self.result = result
        self.effects += result.effects
        self.snap = replace(self.snap, state=result.state, data=result.data, lang=result.lang)
        for effect in result.effects:
            if isinstance(effect, SetRegion):
                self.snap.region = Region(effect.zip, effect.state, effect.county)
            elif isinstance(effect, RequestPeer):
                self.snap.in_handoff = True
            elif isinstance(effect, LeaveQueue):
                self.snap.in_handoff = False
            elif isinstance(effect, ForgetConfirmed):
                self.snap = replace(self.snap, region=None, in_handoff=False, data={})
            elif isinstance(effect, LanguageChanged):
                assert effect.lang == result.lang
        return result

    def say(self, text: str, assessment: Any = None) -> FlowResult:
        self._msg += 1
        if text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            ev = Inbound(
                kind="command",
                chat_id=CHAT,
                user_id=CHAT,
                message_id=self._msg,
                text=text,
                command=name.lower(),
                args=args,
                language_code=self.language_code,
            )
        else:
            ev = Inbound(
                kind="text",
                chat_id=CHAT,
                user_id=CHAT,
                message_id=self._msg,
                text=text,
                language_code=self.language_code,
            )
        return self.event(ev, assessment)

    def press(self, label: str) -> FlowResult:
        """Press the button with this label (or text key) among the last replies."""
        wanted = self.t(label) if "." in label and self._is_key(label) else label
        for button in self.buttons():
            if button.label == wanted:
                return self.press_data(button.data)
        raise AssertionError(f"no button {wanted!r} in {[b.label for b in self.buttons()]}")

    def press_data(self, data: str) -> FlowResult:
        self._msg += 1
        return self.event(
            Inbound(
                kind="callback",
                chat_id=CHAT,
                user_id=CHAT,
                callback_id=f"cb{self._msg}",
                callback_data=data,
                language_code=self.language_code,
            )
        )

    def internal(self, **payload: Any) -> FlowResult:
        return self.event(Inbound(kind="internal", chat_id=CHAT, internal=payload))

    # -- reading ---------------------------------------------------------------------------

    def _is_key(self, key: str) -> bool:
        return any(self.content.has_text(key, lang) for lang in self.content.languages)

    def t(self, key: str, **params: Any) -> str:
        return self.content.text(key, self.snap.lang, **params)

    def texts(self) -> list[str]:
        assert self.result is not None
        return [a.text for a in self.result.actions if isinstance(a, SendText)]

    def all_text(self) -> str:
        return "\n\n".join(self.texts())

    def buttons(self) -> list[Button]:
        assert self.result is not None
        return [
            b
            for a in self.result.actions
            if isinstance(a, SendText)
            for row in a.buttons
            for b in row
        ]

    def labels(self) -> list[str]:
        return [b.label for b in self.buttons()]

    def answered_callback(self) -> bool:
        assert self.result is not None
        return any(isinstance(a, AnswerCallback) for a in self.result.actions)

    def is_reflection(self, text: str) -> bool:
        """A warm generic reflection, or the reflection of a topic (never our own words)."""
        first = text.split("\n\n")[0]
        lang = self.snap.lang
        topical = [t.reflection.get(lang) or t.reflection["en"] for t in self.content.topics]
        return first in self.content.text_list("parent.reflect.generic", lang) or first in topical

    def restart(self) -> None:
        """Save the snapshot as the app would (JSON) and load it back."""
        saved = json.dumps(
            {"state": self.snap.state, "data": self.snap.data, "lang": self.snap.lang}
        )
        back = json.loads(saved)
        self.snap = replace(self.snap, state=back["state"], data=back["data"], lang=back["lang"])


def forged(action: str, arg: str = "") -> str:
    return encode(b"someone-else", CHAT, action, arg)
