"""The parent's conversation: engage, explore, plan, access & advocate.

``handle`` is a pure function: a snapshot of the parent and one inbound event in,
the new state, actions (messages) and effects out. No I/O, no clock reads (``now`` is
passed in), no words of our own: every sentence comes from ``content/texts``. The
shape of the conversation lives in :mod:`flows.parent.machine`; this module decides
which trigger an event is and what to say on the way.

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
from datetime import datetime, timedelta
from types import EllipsisType
from typing import TYPE_CHECKING, Any, Literal

from flows.callbacks import decode, encode
from flows.content import Content, Region, Resource, RightsInfo, Topic
from flows.effects import (
    CancelCheckins,
    Effect,
    ForgetConfirmed,
    LanguageChanged,
    LeaveQueue,
    PlanChosen,
    RequestPeer,
    ResourcesShared,
    ScheduleCheckin,
    SetRegion,
    TopicChosen,
)
from flows.events import Action, AnswerCallback, Button, Inbound, SendText
from flows.parent import machine as m
from flows.parent.regions import clean_county, parse_place
from flows.safety.response import boundary_reply, crisis_reply

if TYPE_CHECKING:
    from flows.safety import Assessment

LANGUAGES = ("en", "es")
# Commands that still answer while a peer has the conversation; the rest is theirs.
COMMANDS_DURING_HANDOFF = frozenset(
    {"stop", "privacy", "crisis", "language", "forget", "help", "resources"}
)
# Flow data that survives /stop and /start (safety flags and answers we must not re-ask).
KEEP_ON_RESET = ("no_checkin", "retention_days", "region_asked")
STORY_MIN_WORDS = 5  # fewer words and no topic: a greeting, not yet a story
MAX_REGION_TRIES = 2  # never trap a parent in a question they cannot answer
MAX_RESOURCES = 5
MAX_MESSAGE = 4000  # Telegram allows 4096 characters per message
CHECKIN_DAYS = {"1": 1, "3": 3}


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
        if not snap.state and event.language_code:
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


def _topic(content: Content, topic_id: str) -> Topic | None:
    return content.topic(topic_id)


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


def _cmd_start(ctx: _Ctx) -> None:
    ctx.reset()
    ctx.fire("start")
    _welcome(ctx)


def _cmd_talk(ctx: _Ctx) -> None:
    _talk(ctx, note=ctx.event.args.strip() or None)


def _cmd_resources(ctx: _Ctx) -> None:
    if ctx.snap.in_handoff:
        # The peer has the conversation, so no questions: share what fits what we know.
        _share_resources(ctx, offer_peer=False)
        return
    _want_resources(ctx, "resources_cmd")


def _cmd_crisis(ctx: _Ctx) -> None:
    ctx.send(crisis_reply(None, ctx.lang, ctx.content, ctx.now))


def _cmd_privacy(ctx: _Ctx) -> None:
    days = ctx.data.get("retention_days", 30)
    ctx.send(ctx.text("privacy.full", retention_days=days))


def _cmd_language(ctx: _Ctx) -> None:
    wanted = ctx.event.args.strip().lower()[:2]
    if wanted in LANGUAGES:
        _switch_language(ctx, wanted)
        return
    ctx.say(
        "parent.language.choose",
        buttons=[
            [
                ctx.button("parent.buttons.lang_en", "lang", "en"),
                ctx.button("parent.buttons.lang_es", "lang", "es"),
            ]
        ],
    )


def _cmd_stop(ctx: _Ctx) -> None:
    if ctx.snap.in_handoff:
        ctx.effects.append(LeaveQueue())
    ctx.effects.append(CancelCheckins())
    ctx.reset()
    ctx.fire("stop")
    ctx.say("parent.stop")


def _cmd_forget(ctx: _Ctx) -> None:
    if ctx.state != m.CONFIRMING_FORGET:
        ctx.data["resume"] = ctx.state
    ctx.fire("forget")
    ctx.say(
        "parent.forget.confirm",
        buttons=[
            [
                ctx.button("parent.buttons.forget_yes", "fg", "y"),
                ctx.button("parent.buttons.forget_no", "fg", "n"),
            ]
        ],
    )


def _cmd_help(ctx: _Ctx) -> None:
    ctx.say("parent.help")


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
    if ctx.snap.in_handoff and cb.action not in ("lang", "fg"):
        return  # old buttons do nothing while a peer has the conversation
    handler = _BUTTONS.get(cb.action)
    if handler is None or not handler(ctx, cb.arg):
        ctx.say("common.expired_button")


def _btn_help(ctx: _Ctx, arg: str) -> bool:
    if arg == "vent":
        if not ctx.fire("vent"):
            return False
        ctx.say("parent.vent")
        return True
    if arg == "ideas":
        return _want_ideas(ctx)
    if arg == "res":
        return _want_resources(ctx, "want_resources")
    return False


def _btn_peer(ctx: _Ctx, arg: str) -> bool:
    _talk(ctx, note=None)
    return True


def _btn_topic(ctx: _Ctx, arg: str) -> bool:
    if not arg:
        if not ctx.fire("other_topic"):
            return False
        ctx.say("parent.topic.something_else", buttons=[[_peer_button(ctx)]])
        return True
    topic = _topic(ctx.content, arg)
    if topic is None or not m.can_fire(ctx.state, "pick_topic"):
        return False
    _choose_topic(ctx, topic)
    return True


def _btn_ideas(ctx: _Ctx, arg: str) -> bool:
    if arg == "y":
        if not ctx.fire("accept_ideas"):
            return False
        _show_steps(ctx)
        return True
    if arg == "n" and ctx.fire("decline_ideas"):
        ctx.say("parent.ideas.declined", buttons=_help_buttons(ctx, ideas=False))
        return True
    return False


def _btn_step(ctx: _Ctx, arg: str) -> bool:
    if arg == "own":
        if not ctx.fire("own_step"):
            return False
        ctx.say("parent.step.own_prompt")
        return True
    steps = ctx.steps()
    if not arg.isdigit() or not 0 <= int(arg) < len(steps):
        return False
    if not m.can_fire(ctx.state, "pick_step"):
        return False
    _step_chosen(ctx, int(arg))
    return True


def _btn_checkin(ctx: _Ctx, arg: str) -> bool:
    if arg not in (*CHECKIN_DAYS, "0") or not ctx.fire("answer_checkin"):
        return False
    if arg in CHECKIN_DAYS and ctx.turn.checkin_allowed():
        due = ctx.now + timedelta(days=CHECKIN_DAYS[arg])
        key = f"ci-{ctx.snap.parent_id}-{int(due.timestamp())}"
        ctx.data["checkin_key"] = key
        ctx.effects += [CancelCheckins(), ScheduleCheckin(due, key)]
        first = f"parent.checkin.scheduled_{arg}"
    else:
        first = "parent.checkin.declined"
    ctx.say(first, "parent.resources.offer", buttons=_resources_offer_buttons(ctx))
    return True


def _btn_resources(ctx: _Ctx, arg: str) -> bool:
    if arg == "y":
        return _want_resources(ctx, "want_resources")
    if arg == "n" and ctx.fire("decline_resources"):
        ctx.say("parent.resources.declined", buttons=[[_peer_button(ctx)]])
        return True
    return False


def _btn_region_skip(ctx: _Ctx, arg: str) -> bool:
    if not m.can_fire(ctx.state, "region_done"):
        return False
    _region_done(ctx)
    return True


def _btn_checkin_reply(ctx: _Ctx, arg: str) -> bool:
    if arg == "ok" and ctx.fire("checkin_reply"):
        ctx.say("parent.checkin.glad")
        return True
    if arg == "hard" and ctx.fire("checkin_reply"):
        ctx.say("parent.checkin.hard", "parent.ask_help", buttons=_help_buttons(ctx))
        return True
    return False


def _btn_finish(ctx: _Ctx, arg: str) -> bool:
    if not ctx.fire("finish"):
        return False
    ctx.say("parent.done")
    return True


def _btn_language(ctx: _Ctx, arg: str) -> bool:
    if arg not in LANGUAGES:
        return False
    _switch_language(ctx, arg)
    return True


def _btn_forget(ctx: _Ctx, arg: str) -> bool:
    if ctx.state != m.CONFIRMING_FORGET:
        return False
    if arg == "y":
        if ctx.snap.in_handoff:
            ctx.effects.append(LeaveQueue())
        ctx.effects += [CancelCheckins(), ForgetConfirmed()]
        ctx.fire("forget_confirm")
        ctx.data.clear()
        ctx.say("parent.forget.done", "privacy.forget_limits")
        return True
    if arg == "n":
        _resume(ctx)
        ctx.say("parent.forget.cancelled")
        return True
    return False


_BUTTONS = {
    "h": _btn_help,
    "p": _btn_peer,
    "t": _btn_topic,
    "i": _btn_ideas,
    "s": _btn_step,
    "c": _btn_checkin,
    "r": _btn_resources,
    "rs": _btn_region_skip,
    "ci": _btn_checkin_reply,
    "ok": _btn_finish,
    "lang": _btn_language,
    "fg": _btn_forget,
}


# -- free text --------------------------------------------------------------------------------


def _text(ctx: _Ctx, text: str, assessment: Assessment | None) -> None:
    if ctx.state == m.CONFIRMING_FORGET:
        _resume(ctx)  # they moved on: nothing is deleted, the conversation carries on
    if assessment is not None and not assessment.crisis and _answered_ask(ctx, assessment):
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
        ctx.send(ctx.text("privacy.report_fear"), [[_peer_button(ctx)]])
    elif assessment.wants_human:
        ctx.send(ctx.text("parent.human_offer"), [[_peer_button(ctx)]])
    else:
        return False
    if ctx.state in (m.NEW, m.IDLE):
        ctx.fire("hello")
    return True


def _first_message(ctx: _Ctx, text: str) -> None:
    """A story in the first message is listened to before anything else is said."""
    topic = ctx.content.match_topic(text, ctx.lang)
    if topic is None and len(text.split()) < STORY_MIN_WORDS:
        ctx.fire("hello")
        _welcome(ctx)
        return
    ctx.fire("open_up")
    _reflect(ctx, text, [], None, matched=topic)
    ctx.say(
        "parent.welcome_after_story", "privacy.short", "parent.ask_help", buttons=_help_buttons(ctx)
    )


def _reflect(ctx: _Ctx, text: str, then: list[str], buttons: list[list[Button]] | None,
             *, matched: Topic | EllipsisType | None = ...) -> None:
    """Reflect what the parent said (the topic's own words the first time it matches).

    ``matched``: the caller already looked the text up (``None``: no topic matched).
    """
    if not ctx.data.get("topic"):
        topic = ctx.content.match_topic(text, ctx.lang) if matched is ... else matched
        if topic is not None:
            _note_topic(ctx, topic)
    topic = ctx.topic
    if topic is not None and ctx.data.get("reflected") != topic.id:
        ctx.data["reflected"] = topic.id
        first = ctx.local(topic.reflection)
    else:
        first = _generic_reflection(ctx)
    ctx.send("\n\n".join([first, *(ctx.text(k) for k in then)]), buttons)


def _generic_reflection(ctx: _Ctx) -> str:
    """Rotate warm, generic reflections so the parent does not hear the same line twice."""
    options = ctx.content.text_list("parent.reflect.generic", ctx.lang)
    count = int(ctx.data.get("reflections", 0))
    ctx.data["reflections"] = count + 1
    return options[count % len(options)]


# -- the four moves -----------------------------------------------------------------------------


def _welcome(ctx: _Ctx) -> None:
    ctx.say("parent.welcome", "privacy.short", "parent.invite")


def _want_ideas(ctx: _Ctx) -> bool:
    ctx.data["goal"] = "ideas"
    if not ctx.fire("want_ideas"):
        return False
    topic = ctx.topic
    if ctx.state == m.SHARING_STRENGTHS and topic is not None:
        _topic_message(ctx, topic)
    else:
        _ask_topic(ctx)
    return True


def _ask_topic(ctx: _Ctx) -> None:
    rows = [[Button(ctx.local(t.title), ctx.data_for("t", t.id))] for t in ctx.content.topics]
    rows.append([ctx.button("parent.buttons.something_else", "t", "")])
    ctx.say("parent.topic.choose", buttons=rows)


def _note_topic(ctx: _Ctx, topic: Topic) -> None:
    if ctx.data.get("topic") != topic.id:
        ctx.data["topic"] = topic.id
        ctx.effects.append(TopicChosen(topic.id))


def _choose_topic(ctx: _Ctx, topic: Topic) -> None:
    _note_topic(ctx, topic)
    ctx.fire("pick_topic")
    _topic_message(ctx, topic)


def _topic_message(ctx: _Ctx, topic: Topic) -> None:
    """The normalizing intro only for everyday struggles; never for grief or hard news."""
    parts = []
    if topic.tone == "common":
        parts.append(ctx.text("parent.topic.normalize"))
    if ctx.data.get("reflected") != topic.id:
        ctx.data["reflected"] = topic.id
        parts.append(ctx.local(topic.reflection))
    parts.append(ctx.local(topic.strength_question))
    ctx.send("\n\n".join(parts))


def _strengths_told(ctx: _Ctx) -> None:
    ctx.fire("tell_strengths")
    if ctx.state == m.CHOOSING_STEP:
        ctx.say("parent.strengths.thanks")
        _show_steps(ctx)
    else:
        ctx.say("parent.strengths.thanks", "parent.ideas.offer", buttons=_ideas_offer_buttons(ctx))


def _show_steps(ctx: _Ctx) -> None:
    steps = ctx.steps()
    if not steps:
        ctx.say("parent.step.own_prompt")
        ctx.fire("own_step")
        return
    lines = [ctx.text("parent.ideas.intro"), *(f"{i}. {s}" for i, s in enumerate(steps, 1))]
    numbers = [Button(str(i + 1), ctx.data_for("s", str(i))) for i in range(len(steps))]
    rows = [numbers[i : i + 4] for i in range(0, len(numbers), 4)]
    rows.append([ctx.button("parent.buttons.own_step", "s", "own")])
    ctx.send("\n".join(lines), rows)


def _step_chosen(ctx: _Ctx, index: int | None) -> None:
    ctx.effects.append(PlanChosen(index))
    ctx.data["planned"] = True
    ctx.fire("pick_step")
    if ctx.state == m.OFFERING_CHECKIN:
        ctx.say("parent.step.ack", "parent.checkin.offer", buttons=_checkin_buttons(ctx))
    else:
        ctx.say("parent.step.ack", "parent.resources.offer", buttons=_resources_offer_buttons(ctx))


def _want_resources(ctx: _Ctx, trigger: str) -> bool:
    if not ctx.fire(trigger):
        return False
    ctx.data.setdefault("goal", "resources")
    if ctx.state == m.ASKING_REGION:
        ctx.data["region_tries"] = 0
        ctx.say("parent.region.ask", buttons=[[ctx.button("parent.buttons.skip", "rs")]])
    else:
        _share_resources(ctx, offer_peer=True)
    return True


def _is_skip(ctx: _Ctx, text: str) -> bool:
    words = {
        w.strip().casefold() for w in ctx.content.text_list("parent.region.skip_words", ctx.lang)
    }
    return text.strip().strip(".!").casefold() in words


def _region_answer(ctx: _Ctx, text: str) -> None:
    if _is_skip(ctx, text):
        _region_done(ctx)
        return
    place = parse_place(text)
    if place is None:
        tries = int(ctx.data.get("region_tries", 0)) + 1
        ctx.data["region_tries"] = tries
        if tries >= MAX_REGION_TRIES:
            _region_done(ctx)
            return
        ctx.fire("region_retry")
        ctx.say("parent.region.not_understood", buttons=[[ctx.button("parent.buttons.skip", "rs")]])
        return
    _set_region(ctx, Region(place.zip, place.state, place.county))
    if place.state and not place.county:
        ctx.fire("region_partial")
        ctx.say("parent.region.county_ask", buttons=[[ctx.button("parent.buttons.skip", "rs")]])
        return
    _region_done(ctx)


def _county_answer(ctx: _Ctx, text: str) -> None:
    county = None if _is_skip(ctx, text) else clean_county(text)
    state = ctx.region.state if ctx.region else None
    if county and state:
        _set_region(ctx, Region(None, state, county))
    _region_done(ctx)


def _set_region(ctx: _Ctx, region: Region) -> None:
    ctx.region = region
    ctx.turn.region_known = True
    ctx.effects.append(SetRegion(region.zip, region.state, region.county))


def _region_done(ctx: _Ctx) -> None:
    ctx.data["region_asked"] = True
    ctx.data.pop("region_tries", None)
    ctx.fire("region_done")
    _share_resources(ctx, offer_peer=True)


def _share_resources(ctx: _Ctx, *, offer_peer: bool) -> None:
    """Local services, parent groups and rights for the parent's region and topic.

    Every line shows its hours (``render_resource``), so nothing looks open at 3 a.m.
    """
    topic = ctx.topic
    categories = list(topic.resource_categories) if topic and topic.resource_categories else None
    found = ctx.content.resources_for(
        categories=categories, region=ctx.region, lang=ctx.lang, now=ctx.now,
        demo=ctx.snap.demo,
    )
    services = [r for r in found if r.kind != "support_group"][:MAX_RESOURCES]
    groups = [r for r in found if r.kind == "support_group"][:MAX_RESOURCES]
    rights = ctx.content.rights_for(topic.id, ctx.region, ctx.lang) if topic else []
    shown = [*services, *groups]
    if shown:
        ctx.effects.append(ResourcesShared(tuple(r.id for r in shown)))

    def render(items: list[Resource]) -> list[str]:
        return [ctx.content.render_resource(r, ctx.lang, ctx.now) for r in items]

    blocks = [
        ("parent.resources.intro", render(services)),
        ("parent.resources.groups_intro", render(groups)),
        ("parent.resources.rights_intro", [_rights_text(ctx, x) for x in rights]),
    ]
    if not shown and not rights:
        ctx.say("parent.resources.none")
    for heading, items in blocks:
        if items:
            for chunk in _chunks([ctx.text(heading), *items]):
                ctx.send(chunk)
    if offer_peer:
        ctx.say("parent.resources.after", buttons=_after_resources_buttons(ctx))


def _rights_text(ctx: _Ctx, info: RightsInfo) -> str:
    return f"{ctx.local(info.title)}\n{ctx.local(info.body)}"


def _chunks(paragraphs: list[str]) -> list[str]:
    """Paragraphs joined into messages that fit Telegram's limit, never split mid-paragraph."""
    out: list[str] = []
    current = ""
    for p in paragraphs:
        candidate = f"{current}\n\n{p}" if current else p
        if current and len(candidate) > MAX_MESSAGE:
            out.append(current)
            candidate = p
        current = candidate[:MAX_MESSAGE]
    if current:
        out.append(current)
    return out


def _talk(ctx: _Ctx, note: str | None) -> None:
    """Only the effect: the handoff part answers with the queue place or after-hours text."""
    ctx.effects.append(RequestPeer(note=note, experience=ctx.data.get("topic")))
    ctx.fire("talk")


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
    elif job == "handoff_ended":
        ctx.fire("handoff_ended")  # the handoff part says goodbye; we just listen again


# -- shared pieces -------------------------------------------------------------------------------


def _switch_language(ctx: _Ctx, lang: str) -> None:
    if lang != ctx.lang:
        ctx.effects.append(LanguageChanged(lang))
    ctx.lang = lang
    ctx.say("parent.language.changed")


def _resume(ctx: _Ctx) -> None:
    """Back to where the parent was before /forget (a restore, like loading from storage)."""
    m.restore(ctx.turn, str(ctx.data.pop("resume", m.IDLE)))


def _peer_button(ctx: _Ctx) -> Button:
    return ctx.button("parent.buttons.person", "p")


def _help_buttons(ctx: _Ctx, *, ideas: bool = True) -> list[list[Button]]:
    rows = [[ctx.button("parent.buttons.vent", "h", "vent")]]
    if ideas:
        rows.append([ctx.button("parent.buttons.ideas", "h", "ideas")])
    rows += [[ctx.button("parent.buttons.resources", "h", "res")], [_peer_button(ctx)]]
    return rows


def _ideas_offer_buttons(ctx: _Ctx) -> list[list[Button]]:
    return [
        [
            ctx.button("parent.buttons.yes_please", "i", "y"),
            ctx.button("parent.buttons.not_now", "i", "n"),
        ]
    ]


def _resources_offer_buttons(ctx: _Ctx) -> list[list[Button]]:
    return [
        [
            ctx.button("parent.buttons.yes_please", "r", "y"),
            ctx.button("parent.buttons.not_now", "r", "n"),
        ]
    ]


def _after_resources_buttons(ctx: _Ctx) -> list[list[Button]]:
    """The real person first; ideas only if they have not made a plan yet."""
    rows = [[_peer_button(ctx)]]
    if "planned" not in ctx.data:
        rows.append([ctx.button("parent.buttons.ideas", "h", "ideas")])
    rows.append([ctx.button("parent.buttons.im_ok", "ok")])
    return rows


def _checkin_buttons(ctx: _Ctx) -> list[list[Button]]:
    return [
        [
            ctx.button("parent.buttons.checkin_1", "c", "1"),
            ctx.button("parent.buttons.checkin_3", "c", "3"),
        ],
        [ctx.button("parent.buttons.no_thanks", "c", "0")],
    ]


def _prompt(ctx: _Ctx) -> tuple[list[str], list[list[Button]] | None]:
    """The question of a state that waits for a choice, to ask again after listening."""
    state = ctx.state
    if state == m.OFFERING_IDEAS:
        return ["parent.ideas.offer"], _ideas_offer_buttons(ctx)
    if state == m.OFFERING_CHECKIN:
        return ["parent.checkin.offer"], _checkin_buttons(ctx)
    if state == m.OFFERING_RESOURCES:
        return ["parent.resources.offer"], _resources_offer_buttons(ctx)
    if state == m.AFTER_RESOURCES:
        return [], _after_resources_buttons(ctx)
    return [], _help_buttons(ctx)
