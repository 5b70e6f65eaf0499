"""The matcher: compiled rules + normalized text -> which rules really apply.

Kept separate from the rules' *content* so the logic a reviewer must trust is small:

1. normalize (see :mod:`flows.safety.normalize`);
2. per sentence, blank out idioms ("this toddler is killing me") so they cannot match;
3. per clause, a rule counts unless a negation cue governs it ("I'm not going to kill
   myself") or the clause is about the past ("used to", "years ago") with nothing that
   brings it back to now ("again", "last night");
4. ``{all: [...]}`` patterns need every part in one sentence (relapse: "used to cut" +
   "did it again"), with the same past-history check on that sentence.

A current crisis in one clause is never cancelled by history or negation in another:
scope ends at the clause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.safety.normalize import clauses, normalize_variants, sentences
from flows.safety.rules import Pattern, Rule, RuleSet

# A negation cue governs a match at most this many words later ("not going to kill").
NEG_WINDOW = 3

# When several categories match, the reply is chosen by the most urgent one.
CATEGORY_PRIORITY: tuple[str, ...] = (
    "medical_emergency",
    "minor",
    "psychosis",
    "harm_to_child",
    "child_in_danger",
    "suicide",
    "self_harm",
    "domestic_violence",
)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What screening concluded about one message. Holds no message text, only rule ids."""

    crisis: bool
    clinical: bool
    legal: bool
    category: str | None  # the most urgent category, which picks the reply's script
    evidence: tuple[str, ...]
    concern: bool = False  # not a crisis, but worth asking the parent directly
    score: float = 0.0  # the risk model's crisis probability (0 when only rules ran)
    categories: tuple[str, ...] = ()  # every crisis category found, most urgent first
    wants_human: bool = False  # asks for a real person
    fear_of_report: bool = False  # afraid that asking for help brings a report
    concern_category: str | None = None  # what the concern is about (asked once per thing)
    tempered: tuple[str, ...] = ()  # categories the rules saw negated or in the past


def _mask(regex: re.Pattern[str] | None, text: str) -> str:
    """Replace matches by '#' of equal length, so positions stay comparable."""
    if regex is None:
        return text
    return regex.sub(lambda m: "#" * len(m.group(0)), text)


def _negated(
    rs: RuleSet, clause: str, masked: str, regex: re.Pattern[str], m: re.Match[str]
) -> bool:
    neg = rs.scope.get("negation")
    if neg is None:
        return False
    start, end = m.span()
    for cue in neg.finditer(masked, 0, end):
        if cue.end() <= start:
            if len(masked[cue.end() : start].split()) <= NEG_WINDOW:
                return True
        elif cue.start() >= start:
            # A cue inside the match negates it only if the rule does not need it:
            # "i dont want to die" still matches "i want to die" without "dont"
            # (negated), but "i dont want to live" needs its "dont" (not negated).
            without = clause[: cue.start()] + clause[cue.end() :].lstrip()
            if regex.match(without, start):
                return True
    return False


def _past(rs: RuleSet, text: str) -> bool:
    history = rs.scope.get("history")
    if history is None or not history.search(text):
        return False
    current = rs.scope.get("current")
    return current is None or not current.search(text)


def _single_hit(rs: RuleSet, pat: Pattern, clause: str, masked: str) -> bool:
    regex = pat.parts[0]
    for m in regex.finditer(clause):
        if not _negated(rs, clause, masked, regex, m):
            return True
    return False


def _all_hit(rs: RuleSet, pat: Pattern, sentence: str) -> bool:
    masked = _mask(rs.scope.get("negation_exceptions"), sentence)
    for regex in pat.parts:
        if not any(not _negated(rs, sentence, masked, regex, m) for m in regex.finditer(sentence)):
            return False
    return not _past(rs, sentence)


Candidates = list[tuple[Rule, Pattern]]


def _tempered(cands: Candidates, sentence: str) -> set[str]:
    """Categories of crisis phrases that are there but were cancelled by negation or past
    history ("i dont want to die", "i used to cut"). The model cannot read scope; this
    tells it the rules did."""
    return {rule.category for rule, pat in cands
            if rule.category and all(regex.search(sentence) for regex in pat.parts)}


def _crisis_hits(rs: RuleSet, cands: Candidates, sentence: str) -> list[Rule]:
    hits: list[Rule] = []
    if not cands:
        return hits
    parts = [(c, _mask(rs.scope.get("negation_exceptions"), c)) for c in clauses(sentence)]
    live = [(c, mc) for c, mc in parts if not _past(rs, c)]
    for rule, pat in cands:
        if hits and hits[-1] is rule:
            continue
        if pat.is_all:
            found = _all_hit(rs, pat, sentence)
        else:
            found = any(_single_hit(rs, pat, c, mc) for c, mc in live)
        if found:
            hits.append(rule)
    return hits


def _without_idioms(cands: Candidates, sentence: str) -> str:
    """Blank idiom spans out with a clause break, so nothing can match across them."""
    for _rule, pat in cands:
        for regex in pat.parts:
            sentence = regex.sub(" , ", sentence)
    return sentence


def _first_match(cands: Candidates, text: str) -> Rule | None:
    for rule, pat in cands:
        if all(regex.search(text) for regex in pat.parts):
            return rule
    return None


def assess_with(rs: RuleSet, text: str, lang: str | None = None) -> Assessment:
    """Screen one message with ``rs``.

    ``lang`` is accepted for the contract but both languages' rules always run: a
    parent's Telegram language does not say which language they write in tonight, and
    missing a crisis costs more than the few microseconds of the second language.
    """
    del lang
    crisis_rules: dict[str, Rule] = {}
    boundary: dict[str, Rule] = {}
    minor = False
    tempered: set[str] = set()
    minor_re = rs.scope.get("minor_self")
    for norm in normalize_variants(text, rs.textspeak):
        if minor_re is not None and minor_re.search(norm):
            minor = True
        cands = rs.candidates(norm)
        idioms = cands.get("idioms", [])
        crisis = cands.get("crisis", [])
        clinical = cands.get("clinical", [])
        exceptions = cands.get("clinical_exceptions", [])
        for sentence in sentences(norm):
            if crisis:
                plain = _without_idioms(idioms, sentence)
                found = _crisis_hits(rs, crisis, plain)
                for rule in found:
                    crisis_rules.setdefault(rule.id, rule)
                if not found:
                    tempered |= _tempered(crisis, plain)
            if clinical and _first_match(exceptions, sentence) is None:
                for rule, pat in clinical:
                    if rule.id not in boundary and all(r.search(sentence) for r in pat.parts):
                        boundary[rule.id] = rule
    categories = {r.category for r in crisis_rules.values() if r.category}
    evidence = [*crisis_rules, *boundary]
    category: str | None = None
    if categories:
        if minor and "medical_emergency" not in categories:
            categories.add("minor")
            evidence.append("minor_self")
        category = next(c for c in CATEGORY_PRIORITY if c in categories)
    return Assessment(
        crisis=category is not None,
        clinical=any(r.kind == "clinical" for r in boundary.values()),
        legal=any(r.kind == "legal" for r in boundary.values()),
        category=category,
        evidence=tuple(evidence),
        categories=tuple(c for c in CATEGORY_PRIORITY if c in categories),
        tempered=tuple(sorted(tempered)) if category is None else (),
    )


def advice_with(rs: RuleSet, text: str) -> str | None:
    """The id of the nudge rule a specialist's message matches, or None.

    A clause that tells the specialist's own story ("my son has ADHD too", "when my
    daughter started meds...") is not advice, so story clauses are skipped.
    """
    for norm in normalize_variants(text, rs.textspeak):
        cands = rs.candidates(norm)
        story = cands.get("nudge_story", [])
        advice = cands.get("nudge", [])
        if not advice:
            continue
        for sentence in sentences(norm):
            for clause in clauses(sentence):
                if _first_match(story, clause) is not None:
                    continue
                rule = _first_match(advice, clause)
                if rule is not None:
                    return rule.id
    return None
