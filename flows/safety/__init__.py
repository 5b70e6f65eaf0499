"""Crisis screening and the clinical/legal boundary.

Every parent message goes through :func:`assess` before anything else. Two readers look
at it and either can raise the alarm:

* the **rules** (``content/safety/*.yaml``): precise, explainable, editable by
  coordinators; they name the rule that fired;
* the **risk model** (``content/safety/risk-model.bin``, trained from
  ``content/safety/corpus/`` by ``parentline safety train``): catches phrasing nobody
  wrote a rule for, in English, Spanish and Spanglish.

A crisis from either gets the full crisis response. When only the model is unsure
(``concern``), the line asks the parent directly, as trained counsellors do. Both are
pure (no I/O after the first load, no network) and fast. The returned
:class:`Assessment` carries rule ids and ``model.*`` markers as evidence, never message
text, so it can be written to the audit log.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

from flows.content.yamlio import ContentError
from flows.safety.engine import CATEGORY_PRIORITY, Assessment, assess_with
from flows.safety.model import RiskModel, Scores
from flows.safety.rules import RuleSet, load_rules

__all__ = [
    "Assessment",
    "RiskModel",
    "RuleSet",
    "active_model",
    "active_rules",
    "assess",
    "assess_window",
    "combine",
    "default_content_dir",
    "prescreen",
    "screened_part",
    "use_model",
    "use_rules",
    "warm_up",
]

MODEL_FILE = "risk-model.bin"
WINDOW_TAIL = 300  # characters of each recent message read together (a plan is short)

# The rules read at most this much of one message: Telegram's own limit for a text, so a
# real message is read whole. Anything longer (text the line puts together itself, or a
# client that ignores the limit) is read in its first and last halves: a parent tends to
# say what is wrong at the start of a long message and where things stand now at its end,
# and the rules' cost grows with length (measured: about 20 ms for 4,096 characters, so a
# 100,000-character text would hold the line up for half a second).
MAX_SCREENED_CHARS = 4096
_EDGE_CHARS = MAX_SCREENED_CHARS // 2
# Assessments by text, for the same rules and model: the processor screens long texts in a
# thread first (:func:`prescreen`), so the dispatcher's own call finds the answer here and
# the event loop never runs a long screening itself.
_MEMO_SIZE = 256
_memo: OrderedDict[tuple[int, int, str], tuple[Assessment, str, RuleSet, RiskModel]] = (
    OrderedDict())

_lock = threading.Lock()
_memo_lock = threading.Lock()
_active: RuleSet | None = None
_model: RiskModel | None = None


def screened_part(text: str) -> str:
    """What the rules read of ``text``: all of it up to :data:`MAX_SCREENED_CHARS`, else
    its first and last halves with a line break between (so no phrase is made up of the
    end of one half and the start of the other)."""
    if len(text) <= MAX_SCREENED_CHARS:
        return text
    return text[:_EDGE_CHARS] + "\n" + text[-_EDGE_CHARS:]


def default_content_dir() -> Path:
    """The repository's ``content/`` directory (where the shipped rules live)."""
    return Path(__file__).resolve().parents[2] / "content"


def use_rules(ruleset: RuleSet) -> None:
    """Switch the active rules (hot reload). The swap is a single assignment: a message
    being screened right now finishes with the rules it started with."""
    global _active
    _active = ruleset


def use_model(model: RiskModel) -> None:
    """Switch the active risk model (hot reload), like :func:`use_rules`."""
    global _model
    _model = model


def active_rules() -> RuleSet:
    """The rules in use, loading the shipped ones on first use.

    Raises :class:`ContentError` if the shipped rules are broken: starting a support
    line without crisis screening must fail loudly, not quietly screen nothing.
    """
    current = _active
    if current is not None:
        return current
    with _lock:
        if _active is None:
            ruleset, problems = load_rules(default_content_dir())
            if ruleset is None:
                raise ContentError(problems)
            use_rules(ruleset)
        assert _active is not None
        return _active


def active_model() -> RiskModel:
    """The risk model in use, loading the shipped one on first use (the runtime loads it
    at start-up, so no parent's message pays for the load)."""
    current = _model
    if current is not None:
        return current
    with _lock:
        if _model is None:
            use_model(RiskModel.load(default_content_dir() / "safety" / MODEL_FILE))
        assert _model is not None
        return _model


def combine(rules: Assessment, scores: Scores, model: RiskModel) -> Assessment:
    """Rules and model together.

    Either can call a crisis; the rules name its category when they fired (they are the
    precise reader), the model otherwise. A rule hit the model strongly doubts (a score
    under ``veto``: rules written for one phrasing also fire on idioms and mentions of
    another) is asked about instead, never dropped; a medical emergency never is, nor a
    hit in text longer than the model reads.
    """
    t = model.thresholds
    t_crisis, t_concern, t_veto = t.crisis_for(scores.lang)
    # The rules read negation and past history, the model cannot: when the rules saw a
    # crisis phrase cancelled that way ("i dont want to die", "i used to cut"), a model
    # crisis becomes a question rather than the full response.
    model_crisis = scores.crisis >= t_crisis and scores.category not in rules.tempered
    doubted = (rules.crisis and scores.crisis < t_veto and not model_crisis and scores.complete
               and "medical_emergency" not in rules.categories)
    rules_crisis = rules.crisis and not doubted
    crisis = rules_crisis or model_crisis
    evidence = list(rules.evidence)
    categories: list[str] = []
    if rules_crisis:
        categories.extend(c for c in CATEGORY_PRIORITY if c in rules.categories)
    if crisis:
        top = scores.categories[0][1]
        for name, p in scores.categories:
            if name not in categories and (
                (model_crisis and p == top) or p >= t.also * max(scores.crisis, 1e-9)
            ):
                categories.append(name)
        if model_crisis:
            evidence.append(f"model.{scores.category}")
    category = rules.category if rules_crisis else (categories[0] if crisis else None)
    concern = not crisis and (doubted or scores.crisis >= t_concern)
    if concern and scores.category in rules.tempered:
        evidence.append("rules.tempered")
    if doubted:
        evidence.append("model.doubt")
    elif concern:
        evidence.append("model.concern")
    clinical = rules.clinical or scores.clinical >= t.clinical
    legal = rules.legal or scores.legal >= t.legal
    if clinical and not rules.clinical:
        evidence.append("model.clinical")
    if legal and not rules.legal:
        evidence.append("model.legal")
    human = scores.human >= t.human
    fear = scores.fear >= t.fear
    if human:
        evidence.append("model.human")
    if fear:
        evidence.append("model.fear")
    return Assessment(
        crisis=crisis,
        clinical=clinical,
        legal=legal,
        category=category,
        evidence=tuple(evidence),
        concern=concern,
        score=round(scores.crisis, 4),
        categories=tuple(categories),
        wants_human=human,
        fear_of_report=fear,
        concern_category=(rules.category if doubted else scores.category) if concern else None,
    )


def assess(text: str, lang: str | None = None) -> Assessment:
    """Screen one message for a crisis, a concern worth asking about, clinical or legal
    questions, a request for a person, and fear of being reported.

    ``lang`` does not change the result (both languages' rules always run), so answers
    are remembered by text for the active rules and model (see :func:`prescreen`).
    """
    rules, model = active_rules(), active_model()
    key = (id(rules), id(model), text)
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None and hit[2] is rules and hit[3] is model:  # not a reused id()
            _memo.move_to_end(key)
            return hit[0]
    a = combine(assess_with(rules, screened_part(text), lang), model.score(text), model)
    with _memo_lock:
        _memo[key] = (a, threading.current_thread().name, rules, model)
        while len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return a


def prescreen(texts: Iterable[str]) -> None:
    """Screen ``texts`` now, so a later :func:`assess` of the same text is a lookup.

    Meant to run in a worker thread (``asyncio.to_thread``): Python switches threads
    every few milliseconds, so the event loop keeps answering while a long message is
    screened, instead of stopping for the whole screening.
    """
    for text in texts:
        assess(text)


def forget_screened() -> None:
    """Forget every remembered answer (benchmarks measure screening, not the lookup)."""
    with _memo_lock:
        _memo.clear()


def screened_on(text: str) -> str | None:
    """The name of the thread that screened ``text`` with the active rules and model, or
    ``None`` when it is not remembered (for tests and diagnostics)."""
    rules, model = active_rules(), active_model()
    with _memo_lock:
        hit = _memo.get((id(rules), id(model), text))
    return hit[1] if hit is not None and hit[2] is rules and hit[3] is model else None


WARM_UP_TEXTS = (
    "I can't do this anymore. Everyone would be better off without me.",
    "Ya no puedo más, me tomé todas las pastillas.",
    "Bedtime is a battle every night; can I talk to a real person? Is he on the right meds?",
)


def warm_up() -> None:
    """Load the rules and the model and run them once (lazily built indexes, the first
    numerical call), at start-up, so no parent's first message pays for it."""
    active_rules()
    active_model()
    for text in WARM_UP_TEXTS:
        assess(text)
        assess_window([text, text])


def assess_window(recent: Sequence[str], lang: str | None = None) -> Assessment | None:
    """Screen a parent's last few messages read together, for a plan told in pieces
    ("saved up my pills" ... "tonight"). None when there is nothing to read together.

    Only the model reads the window: the rules already read every message on its own.
    """
    if len(recent) < 2:
        return None
    model = active_model()
    parts: list[str] = []
    for message in reversed(recent):  # the newest first, about two windows' worth
        parts.append(message[-WINDOW_TAIL:])
        if sum(map(len, parts)) >= 2 * WINDOW_TAIL:
            break
    text = " . ".join(reversed(parts))
    scores = model.score(text)
    empty = Assessment(crisis=False, clinical=False, legal=False, category=None, evidence=())
    a = combine(empty, scores, model)
    return Assessment(
        crisis=a.crisis,
        clinical=False,
        legal=False,
        category=a.category,
        evidence=tuple(f"window.{e}" for e in a.evidence if e.startswith("model.")
                       and e not in ("model.clinical", "model.legal", "model.human",
                                     "model.fear")),
        concern=a.concern,
        score=a.score,
        categories=a.categories,
        concern_category=a.concern_category,
    )
