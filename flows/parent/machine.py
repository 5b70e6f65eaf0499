"""The parent conversation as data: states, transitions, and one shared rulebook.

Everything a coordinator needs to review the conversation's shape is in ``STATES`` and
``TRANSITIONS`` (plain dicts, as in the ``transitions`` README); ``diagram.py`` draws
them. ``RULEBOOK`` is a single ``transitions.Machine`` built once with no models: a
turn is a throw-away :class:`Turn` whose state is *set* from the database
(``set_state``, the documented restore) and then fired through ``RULEBOOK.events``.
The machine never holds a reference to a parent, so thousands of parents cost nothing
and two turns can never see each other's state.

An event fired from a state that has no such transition raises ``MachineError``; the
flow turns that into "that button has expired", which is how stale buttons are caught.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine, MachineError

NEW = "new"  # a parent we have never spoken to (stored as "")
IDLE = "idle"
WELCOMED = "welcomed"
LISTENING = "listening"
CHOOSING_TOPIC = "choosing_topic"
SHARING_STRENGTHS = "sharing_strengths"
OFFERING_IDEAS = "offering_ideas"
CHOOSING_STEP = "choosing_step"
WRITING_STEP = "writing_step"
OFFERING_CHECKIN = "offering_checkin"
OFFERING_RESOURCES = "offering_resources"
ASKING_REGION = "asking_region"
ASKING_COUNTY = "asking_county"
AFTER_RESOURCES = "after_resources"
CHECKED_IN = "checked_in"
CONFIRMING_FORGET = "confirming_forget"
REVIEWING_CARD = "reviewing_card"
HANDED_OFF = "handed_off"

# state -> (move of peer support, what the parent is doing there)
STATES: dict[str, tuple[str, str]] = {
    NEW: ("engage", "never talked to us"),
    IDLE: ("engage", "left with /stop; the next message welcomes them again"),
    WELCOMED: ("engage", "welcomed and told about privacy; invited to share"),
    LISTENING: ("explore", "sharing in their own words; we reflect and ask what would help"),
    CHOOSING_TOPIC: ("explore", "naming the concern: topic buttons or their own words"),
    SHARING_STRENGTHS: ("explore", "answering the topic's strengths question"),
    OFFERING_IDEAS: ("plan", "asked whether they would like a few ideas"),
    CHOOSING_STEP: ("plan", "picking one small next step, or writing their own"),
    WRITING_STEP: ("plan", "writing their own next step"),
    OFFERING_CHECKIN: ("plan", "choosing whether we check in later"),
    OFFERING_RESOURCES: ("access", "asked whether they would like resources"),
    ASKING_REGION: ("access", "asked for a ZIP code or a state (once)"),
    ASKING_COUNTY: ("access", "gave a state; asked for the county"),
    AFTER_RESOURCES: ("access", "saw resources; offered a real person"),
    CHECKED_IN: ("plan", "answering a check-in they asked for"),
    CONFIRMING_FORGET: ("any", "asked to confirm /forget; cancel returns where they were"),
    REVIEWING_CARD: ("access", "sees what the peer will read; changes it, or sends it"),
    HANDED_OFF: ("access", "queued for or talking with a peer: the flow stays silent"),
}

# Where "what would help right now" can be answered from (buttons stay useful a while).
_HELP_FROM = [LISTENING, CHECKED_IN, OFFERING_IDEAS, OFFERING_RESOURCES, AFTER_RESOURCES,
              REVIEWING_CARD]
# Free text in a state that is waiting for a button: reflect and keep the offer open.
_SHARE_IN = [LISTENING, OFFERING_IDEAS, OFFERING_CHECKIN, OFFERING_RESOURCES, AFTER_RESOURCES]
_ANY_BUT_HANDOFF = [s for s in STATES if s not in (HANDED_OFF, CONFIRMING_FORGET)]

TRANSITIONS: list[dict[str, Any]] = [
    # engage
    {"trigger": "start", "source": "*", "dest": WELCOMED},
    {"trigger": "hello", "source": [NEW, IDLE], "dest": WELCOMED},
    {"trigger": "open_up", "source": [NEW, IDLE, WELCOMED, HANDED_OFF], "dest": LISTENING},
    # explore
    {"trigger": "share", "source": _SHARE_IN, "dest": "="},
    {"trigger": "vent", "source": _HELP_FROM, "dest": LISTENING},
    {
        "trigger": "want_ideas",
        "source": _HELP_FROM,
        "dest": SHARING_STRENGTHS,
        "conditions": "has_topic",
    },
    {"trigger": "want_ideas", "source": _HELP_FROM, "dest": CHOOSING_TOPIC},
    {"trigger": "pick_topic", "source": CHOOSING_TOPIC, "dest": SHARING_STRENGTHS},
    {"trigger": "other_topic", "source": CHOOSING_TOPIC, "dest": LISTENING},
    {
        "trigger": "tell_strengths",
        "source": SHARING_STRENGTHS,
        "dest": CHOOSING_STEP,
        "conditions": "asked_for_ideas",
    },
    {"trigger": "tell_strengths", "source": SHARING_STRENGTHS, "dest": OFFERING_IDEAS},
    # plan
    {"trigger": "accept_ideas", "source": OFFERING_IDEAS, "dest": CHOOSING_STEP},
    {"trigger": "decline_ideas", "source": OFFERING_IDEAS, "dest": LISTENING},
    {"trigger": "own_step", "source": CHOOSING_STEP, "dest": WRITING_STEP},
    {
        "trigger": "pick_step",
        "source": [CHOOSING_STEP, WRITING_STEP],
        "dest": OFFERING_CHECKIN,
        "conditions": "checkin_allowed",
    },
    {"trigger": "pick_step", "source": [CHOOSING_STEP, WRITING_STEP], "dest": OFFERING_RESOURCES},
    {"trigger": "answer_checkin", "source": OFFERING_CHECKIN, "dest": OFFERING_RESOURCES},
    {"trigger": "checkin", "source": _ANY_BUT_HANDOFF, "dest": CHECKED_IN},
    {"trigger": "checkin_reply", "source": CHECKED_IN, "dest": LISTENING},
    # access & advocate
    {
        "trigger": "want_resources",
        "source": [*_HELP_FROM, CHOOSING_TOPIC],
        "dest": ASKING_REGION,
        "conditions": "needs_region",
    },
    {"trigger": "want_resources", "source": [*_HELP_FROM, CHOOSING_TOPIC], "dest": AFTER_RESOURCES},
    {
        "trigger": "resources_cmd",
        "source": "*",
        "dest": ASKING_REGION,
        "conditions": "needs_region",
    },
    {"trigger": "resources_cmd", "source": "*", "dest": AFTER_RESOURCES},
    {"trigger": "decline_resources", "source": OFFERING_RESOURCES, "dest": LISTENING},
    {"trigger": "region_retry", "source": ASKING_REGION, "dest": "="},
    {"trigger": "region_partial", "source": ASKING_REGION, "dest": ASKING_COUNTY},
    {"trigger": "region_done", "source": [ASKING_REGION, ASKING_COUNTY], "dest": AFTER_RESOURCES},
    {"trigger": "finish", "source": AFTER_RESOURCES, "dest": LISTENING},
    {"trigger": "review_card", "source": "*", "dest": REVIEWING_CARD},
    {"trigger": "talk", "source": REVIEWING_CARD, "dest": HANDED_OFF},
    {"trigger": "handoff_ended", "source": HANDED_OFF, "dest": LISTENING},
    # commands from anywhere
    {"trigger": "stop", "source": "*", "dest": IDLE},
    {"trigger": "forget", "source": "*", "dest": CONFIRMING_FORGET},
    {"trigger": "forget_confirm", "source": CONFIRMING_FORGET, "dest": NEW},
]


class Turn:
    """The model for one turn: the saved state plus the data the guards look at."""

    flow_state: str

    def __init__(self, data: dict[str, Any], region_known: bool) -> None:
        self.data = data
        self.region_known = region_known

    def has_topic(self) -> bool:
        return bool(self.data.get("topic"))

    def asked_for_ideas(self) -> bool:
        """They pressed "ideas" themselves, so we show the ideas instead of asking again."""
        return self.data.get("goal") == "ideas"

    def checkin_allowed(self) -> bool:
        """Never offer a check-in after a domestic-violence disclosure: a phone is shared."""
        return not self.data.get("no_checkin", False)

    def needs_region(self) -> bool:
        """The region is asked once; a skip counts as asked."""
        return not self.region_known and not self.data.get("region_asked", False)


# The attribute is not "state": a model may be an ORM row with its own ``state`` column.
RULEBOOK = Machine(
    model=None,
    states=list(STATES),
    transitions=TRANSITIONS,
    initial=None,
    auto_transitions=False,
    model_attribute="flow_state",
)


def fire(turn: Turn, trigger: str) -> bool:
    """Fire ``trigger`` on ``turn``; False when it is not allowed from the current state."""
    event = RULEBOOK.events.get(trigger)
    if event is None:
        raise KeyError(f"unknown trigger {trigger!r}")
    try:
        return bool(event.trigger(turn))
    except MachineError:
        return False


def can_fire(state: str, trigger: str) -> bool:
    """Whether ``trigger`` has any transition out of ``state`` (guards not evaluated)."""
    return any(t.source == state for t in RULEBOOK.events[trigger].transitions.get(state, []))


def restore(turn: Turn, saved: str) -> None:
    """Put ``turn`` in the saved state; unknown or empty states restart as a new parent."""
    RULEBOOK.set_state(saved if saved in STATES else NEW, model=turn)
