"""The parent's conversation: engage, explore, plan, access & advocate.

``handle`` is a pure function: a snapshot of the parent and one inbound event in,
the new state, actions (messages) and effects out. No I/O, no clock reads (``now`` is
passed in), no words of our own: every sentence comes from ``content/texts``. The
shape of the conversation lives in :mod:`flows.parent.machine`; this module decides
which trigger an event is and what to say on the way.

This module is the switchboard: ``handle``, the turn (``_Ctx``), the tables from command
and button to handler, and free text by state. What is said in each move lives beside
it: :mod:`~flows.parent.engage` (welcome, listening), :mod:`~flows.parent.explore`
(the concern, strengths), :mod:`~flows.parent.plan` (a next step, a check-in),
:mod:`~flows.parent.access` (resources, region, a real person);
:mod:`~flows.parent.controls` (language, privacy, /stop, /forget) and
:mod:`~flows.parent.offers` (the buttons every move offers) are shared.

Principles that shape the code:

* listen first — free text is welcome at every step and is reflected back before
  anything is offered; ideas and resources are offered with a question, never pushed;
* the parent's choice — buttons for every choice, and their own words always work;
* honesty about privacy — the privacy sentence comes before they share details;
* safety — after a domestic-violence disclosure (``data["no_checkin"]``) nothing is
  ever sent unasked, and check-ins are worded so a shared phone reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from flows.callbacks import decode, encode
from flows.content import Content, Region, Topic
from flows.effects import Effect
from flows.events import Action, AnswerCallback, Button, Inbound, SendText
from flows.parent import card, groups
from flows.parent import machine as m
from flows.parent.access import (
    _btn_finish,
    _btn_peer,
    _btn_peer_experience,
    _btn_region_skip,
    _btn_resources,
    _cmd_crisis,
    _cmd_resources,
    _cmd_talk,
    _county_answer,
    _region_answer,
    _region_location,
)
from flows.parent.controls import (
    LANGUAGES,
    _btn_forget,
    _btn_language,
    _cmd_forget,
    _cmd_help,
    _cmd_language,
    _cmd_privacy,
    _cmd_stop,
    _resume,
)
from flows.parent.engage import _btn_help, _cmd_start, _first_message, _reflect, _welcome
from flows.parent.explore import _btn_ideas, _btn_topic, _choose_topic, _strengths_told, _topic
from flows.parent.offers import _help_buttons, _peer_button, _peer_like_me_button, _prompt
from flows.parent.plan import _btn_checkin, _btn_checkin_reply, _btn_step, _step_chosen
from flows.safety.features import written_lang
from flows.safety.response import boundary_reply

if TYPE_CHECKING:
    from flows.safety import Assessment

# Commands that still answer while a peer has the conversation; the rest is theirs.
COMMANDS_DURING_HANDOFF = frozenset(
    {"stop", "privacy", "crisis", "language", "forget", "help", "resources"}
)
# Flow data that survives /stop and /start (safety flags and answers we must not re-ask).
KEEP_ON_RESET = ("no_checkin", "retention_days", "region_asked")


@dataclass
class ParentSnapshot:
    """What the application knows about a parent when an event arrives."""

    parent_id: int
    chat_id: int
    lang: str
    state: str  # "" for a brand-new parent
    data: dict[str, Any]
    region: Region | None
    in_handoff: bool
    demo: bool = False  # demo mode: the example region's fictional resources are shown


@dataclass
class FlowResult:
    """What the application stores and carries out after one event."""

    state: str
    data: dict[str, Any]
    lang: str
    actions: list[Action] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


def language_guess(code: str | None) -> str:
    """Telegram's language hint, only used for a parent we have never spoken to."""
    return "es" if (code or "").lower().startswith("es") else "en"


class _Ctx:
    """One turn: the parent's saved state, what we say, and what we ask the app to do."""

    def __init__(
        self, snap: ParentSnapshot, event: Inbound, content: Content, now: datetime, secret: bytes
    ) -> None:
        self.snap = snap
        self.event = event
        self.content = content
        self.now = now
        self.secret = secret
        self.data: dict[str, Any] = dict(snap.data)
        self.lang = snap.lang if snap.lang in LANGUAGES else "en"
        if not snap.state:  # a first message: the language it is written in, else the phone's
            written = written_lang(event.text) if event.kind == "text" else None
            if written in LANGUAGES:
                self.lang = written
            elif event.language_code:
                self.lang = language_guess(event.language_code)
        self.region = snap.region
        self.turn = m.Turn(self.data, region_known=_has_region(snap.region))
        m.restore(self.turn, snap.state)
        self.actions: list[Action] = []
        self.effects: list[Effect] = []

    # -- state ---------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self.turn.flow_state

    def fire(self, trigger: str) -> bool:
        return m.fire(self.turn, trigger)

    def result(self) -> FlowResult:
        state = "" if self.state == m.NEW else self.state
        if state != m.REVIEWING_CARD:
            self.data.pop(card.CARD, None)  # a card they moved on from keeps none of their words
        return FlowResult(state, self.data, self.lang, self.actions, self.effects)

    def reset(self) -> None:
        """Forget the conversation so far, keeping safety flags and answered questions."""
        kept = {k: self.data[k] for k in KEEP_ON_RESET if k in self.data}
        self.data.clear()
        self.data.update(kept)

    # -- words -----------------------------------------------------------------------------

    def text(self, key: str, **params: Any) -> str:
        return self.content.text(key, self.lang, **params)

    def button(self, label_key: str, action: str, arg: str = "") -> Button:
        return Button(self.text(label_key), self.data_for(action, arg))

    def data_for(self, action: str, arg: str = "") -> str:
        return encode(self.secret, self.snap.chat_id, action, arg)

    def send(self, text: str, buttons: list[list[Button]] | None = None) -> None:
        rows = tuple(tuple(row) for row in (buttons or []) if row)
        self.actions.append(SendText(self.snap.chat_id, text, rows))

    def say(self, *keys: str, buttons: list[list[Button]] | None = None) -> None:
        """Send the texts for ``keys`` as one message (paragraphs), buttons under it."""
        self.send("\n\n".join(self.text(k) for k in keys), buttons)

    # -- topic -----------------------------------------------------------------------------

    @property
    def topic(self) -> Topic | None:
        topic_id = self.data.get("topic")
        return _topic(self.content, topic_id) if topic_id else None

    def local(self, text: dict[str, str]) -> str:
        return text.get(self.lang) or text.get("en") or next(iter(text.values()), "")

    def steps(self) -> list[str]:
        topic = self.topic
        if topic is None:
            return []
        return list(topic.next_steps.get(self.lang) or topic.next_steps.get("en") or [])


def _has_region(region: Region | None) -> bool:
    return region is not None and any((region.zip, region.state, region.county))


# -- the entry point ------------------------------------------------------------------------


def handle(
    snap: ParentSnapshot,
    event: Inbound,
    content: Content,
    now: datetime,
    secret: bytes,
    assessment: Assessment | None,
) -> FlowResult:
    """Answer one event from a parent. Pure: same inputs, same result."""
    ctx = _Ctx(snap, event, content, now, secret)
    if event.kind == "command":
        _command(ctx)
    elif event.kind == "callback":
        _callback(ctx)
    elif event.kind == "internal":
        _internal(ctx)
    elif snap.in_handoff:
        pass  # the peer has the conversation; the handoff part relays it
    elif event.kind == "text":
        _text(ctx, event.text or "", assessment)
    elif event.kind == "media" and event.location is not None and ctx.state in (
            m.ASKING_REGION, m.ASKING_COUNTY):
        _region_location(ctx, *event.location)  # "where are you?" answered with a map pin
    elif event.kind == "media":
        ctx.say("parent.media", buttons=[[_peer_button(ctx)]])
    # "edited", "group", "member", "unsupported": not ours to answer
    return ctx.result()


# -- commands ---------------------------------------------------------------------------------


def _command(ctx: _Ctx) -> None:
    name = ctx.event.command or ""
    if ctx.snap.in_handoff and name not in COMMANDS_DURING_HANDOFF:
        return
    handler = _COMMANDS.get(name)
    if handler is None:
        ctx.say("common.unknown_command")
        return
    handler(ctx)


_COMMANDS = {
    "start": _cmd_start,
    "talk": _cmd_talk,
    "resources": _cmd_resources,
    "crisis": _cmd_crisis,
    "privacy": _cmd_privacy,
    "language": _cmd_language,
    "stop": _cmd_stop,
    "forget": _cmd_forget,
    "help": _cmd_help,
}


# -- buttons ----------------------------------------------------------------------------------


def _callback(ctx: _Ctx) -> None:
    event = ctx.event
    ctx.actions.append(AnswerCallback(event.callback_id or ""))
    cb = decode(ctx.secret, event.chat_id, event.callback_data)
    if cb is None:
        ctx.say("common.expired_button")
        return
    if ctx.snap.in_handoff and cb.action not in ("lang", "fg", groups.REMIND, groups.UNREMIND):
        return  # old buttons do nothing while a peer has the conversation
    handler = _BUTTONS.get(cb.action)
    if handler is None or not handler(ctx, cb.arg):
        ctx.say("common.expired_button")


_BUTTONS = {
    "h": _btn_help,
    "p": _btn_peer,
    "pe": _btn_peer_experience,
    "t": _btn_topic,
    "i": _btn_ideas,
    "s": _btn_step,
    "c": _btn_checkin,
    "r": _btn_resources,
    "rs": _btn_region_skip,
    "ci": _btn_checkin_reply,
    "ok": _btn_finish,
    "cd": card.btn_card,
    "lang": _btn_language,
    "fg": _btn_forget,
    groups.REMIND: groups._btn_remind,
    groups.UNREMIND: groups._btn_unremind,
}


# -- free text --------------------------------------------------------------------------------


def _text(ctx: _Ctx, text: str, assessment: Assessment | None) -> None:
    if ctx.state == m.CONFIRMING_FORGET:
        _resume(ctx)  # they moved on: nothing is deleted, the conversation carries on
    if ctx.state == m.REVIEWING_CARD and not (assessment and assessment.fear_of_report):
        card.typed_line(ctx, text)  # what they want the peer to read, in their own words
        return
    if assessment is not None and not assessment.crisis and _answered_ask(ctx, assessment):
        if ctx.state == m.REVIEWING_CARD:
            card.show(ctx)  # the honest answer first, then the card is still theirs to send
        return
    if (
        assessment is not None
        and not assessment.crisis
        and (assessment.clinical or assessment.legal)
    ):
        kind: Literal["clinical", "legal"] = "clinical" if assessment.clinical else "legal"
        ctx.send(boundary_reply(kind, ctx.lang, ctx.content), [[_peer_button(ctx)]])
        if ctx.state in (m.NEW, m.IDLE) and ctx.fire("hello"):
            _welcome(ctx)
        return
    state = ctx.state
    if state in (m.NEW, m.IDLE):
        _first_message(ctx, text)
    elif state in (m.WELCOMED, m.HANDED_OFF, m.CHECKED_IN):
        ctx.fire("checkin_reply" if state == m.CHECKED_IN else "open_up")
        _reflect(ctx, text, ["parent.ask_help"], _help_buttons(ctx))
    elif state == m.CHOOSING_TOPIC:
        topic = ctx.content.match_topic(text, ctx.lang)
        if topic is not None:
            _choose_topic(ctx, topic)
        else:
            ctx.fire("other_topic")
            _reflect(ctx, text, ["parent.topic.something_else"], [[_peer_button(ctx)]],
                     matched=None)
    elif state == m.SHARING_STRENGTHS:
        _strengths_told(ctx)
    elif state in (m.CHOOSING_STEP, m.WRITING_STEP):
        _step_chosen(ctx, None)
    elif state == m.ASKING_REGION:
        _region_answer(ctx, text)
    elif state == m.ASKING_COUNTY:
        _county_answer(ctx, text)
    else:  # a state waiting for a button: listen, then keep the offer open
        ctx.fire("share")
        keys, buttons = _prompt(ctx)
        _reflect(ctx, text, keys, buttons)


def _answered_ask(ctx: _Ctx, assessment: Assessment) -> bool:
    """A parent afraid of being reported gets the honest privacy answer (never the
    no-legal-advice refusal); one who asks for a person is offered one. Both come before
    the clinical and legal boundary: they answer what the parent is really asking."""
    if assessment.fear_of_report:
        # Someone who has been through CPS too is often who a frightened parent wants.
        ctx.send(ctx.text("privacy.report_fear"), [[_peer_button(ctx)], _peer_like_me_button(ctx)])
    elif assessment.wants_human:
        ctx.send(ctx.text("parent.human_offer"), [[_peer_button(ctx)]])
    else:
        return False
    if ctx.state in (m.NEW, m.IDLE):
        ctx.fire("hello")
    return True


# -- jobs ---------------------------------------------------------------------------------------


def _internal(ctx: _Ctx) -> None:
    job = ctx.event.internal.get("job")
    if job == "checkin":
        key = ctx.event.internal.get("key")
        # A declined, superseded or forgotten check-in, or a disclosure since: stay silent.
        stale = not key or key != ctx.data.get("checkin_key")
        if stale or ctx.snap.in_handoff or not ctx.turn.checkin_allowed():
            return
        if not ctx.fire("checkin"):
            return
        ctx.data.pop("checkin_key", None)
        ctx.say(
            "parent.checkin.message",
            buttons=[
                [
                    ctx.button("parent.buttons.checkin_ok", "ci", "ok"),
                    ctx.button("parent.buttons.checkin_hard", "ci", "hard"),
                ],
                [_peer_button(ctx)],
            ],
        )
    elif job == groups.JOB:
        groups.reminder_due(ctx)
    elif job == "handoff_ended":
        ctx.data.pop(card.CARD, None)  # a card left when a crisis queued them at once
        ctx.fire("handoff_ended")  # the handoff part says goodbye; we just listen again
