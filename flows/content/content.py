"""The loaded, validated content the rest of the bot reads from.

A :class:`Content` is immutable once built: a hot reload builds a new one and swaps
it in whole, so a conversation never sees half of an edit.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flows.content.models import (
    Category,
    Experience,
    OpeningHours,
    Region,
    Resource,
    RightsInfo,
    Topic,
)
from flows.content.render import render_resource as _render
from flows.content.yamlio import Problem

log = logging.getLogger(__name__)

# Keyword patterns are looked up by their first characters (a space and three letters);
# the rare shorter pattern is searched for directly.
_HEAD = 4
_TONE_WEIGHT = {"grief": 2, "hard": 1, "common": 0}


class _KeepMissing(dict[str, Any]):
    """Format params that leave an unknown ``{placeholder}`` as it is instead of crashing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def normalize(text: str) -> str:
    """Lower-case, accents removed, punctuation to spaces: "Berrinché!" -> "berrinche"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


@dataclass(frozen=True)
class Content:
    """Texts, topics, resources, rights and opening hours, ready to use."""

    root: Path
    languages: tuple[str, ...]
    texts: Mapping[str, Mapping[str, str | tuple[str, ...]]]
    topics: tuple[Topic, ...]
    resources: tuple[Resource, ...]
    rights: tuple[RightsInfo, ...]
    hours: OpeningHours
    categories: Mapping[str, Category]
    experiences: tuple[Experience, ...] = ()
    """Lived experiences a parent may ask a peer for (``content/experience.yaml``)."""
    safety_rules: Any = None
    risk_model: Any = None
    problems: tuple[Problem, ...] = ()
    """Warnings found while loading (errors would have stopped the load)."""
    _keyword_index: tuple[tuple[Topic, tuple[tuple[str, int], ...]], ...] = field(
        default=(), repr=False
    )
    _keyword_where: Mapping[str, tuple[tuple[int, int], ...]] = field(
        default_factory=dict, repr=False)
    _keyword_heads: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _keyword_short: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        index = []
        for topic in self.topics:
            pats = []
            for words in topic.keywords.values():
                for kw in words:
                    norm = normalize(kw)
                    if norm:
                        # Prefix match on word starts: "tantrum" finds "tantrums". Normalized
                        # text is words joined by single spaces, so a word start is a space.
                        pats.append((" " + norm, len(norm.split())))
            index.append((topic, tuple(pats)))
        object.__setattr__(self, "_keyword_index", tuple(index))
        # Where each pattern counts (topic position, weight; once per listing), and the
        # patterns by their first characters, so matching looks only at word starts.
        where: dict[str, list[tuple[int, int]]] = {}
        for pos, (_topic, listed) in enumerate(index):
            for pat, weight in listed:
                where.setdefault(pat, []).append((pos, weight))
        heads: dict[str, list[str]] = {}
        for pat in where:
            if len(pat) >= _HEAD:
                heads.setdefault(pat[:_HEAD], []).append(pat)
        object.__setattr__(self, "_keyword_where", {k: tuple(v) for k, v in where.items()})
        object.__setattr__(self, "_keyword_heads", {k: tuple(v) for k, v in heads.items()})
        object.__setattr__(self, "_keyword_short", tuple(p for p in where if len(p) < _HEAD))

    def __repr__(self) -> str:
        return (
            f"Content({str(self.root)!r}, languages={self.languages}, "
            f"{len(self.topics)} topics, {len(self.resources)} resources, "
            f"{len(self.rights)} rights, {len(self.problems)} warnings)"
        )

    # --- texts -----------------------------------------------------------------

    def has_text(self, key: str, lang: str) -> bool:
        """True if ``key`` exists in exactly this language (no fallback)."""
        return key in self.texts.get(lang, {})

    def _raw(self, key: str, lang: str) -> str | tuple[str, ...]:
        for candidate in (lang, "en"):
            value = self.texts.get(candidate, {}).get(key)
            if value is not None:
                return value
        raise KeyError(key)

    def text(self, key: str, lang: str, **params: Any) -> str:
        """A text in ``lang`` (falling back to English), formatted with ``params``.

        A missing param leaves its ``{placeholder}`` visible rather than crashing a reply
        to a parent; ``check_content`` is where mismatches are caught. ``KeyError`` if the
        key does not exist at all (a programming error, caught by tests).
        """
        raw = self._raw(key, lang)
        if isinstance(raw, tuple):
            raise KeyError(f"{key} is a list of texts; use text_list()")
        return self._format(key, raw, params)

    def text_list(self, key: str, lang: str, **params: Any) -> list[str]:
        """A list of texts (e.g. button labels), formatted like :meth:`text`."""
        raw = self._raw(key, lang)
        values = raw if isinstance(raw, tuple) else (raw,)
        return [self._format(key, v, params) for v in values]

    @staticmethod
    def _format(key: str, template: str, params: Mapping[str, Any]) -> str:
        try:
            return template.format_map(_KeepMissing(params))
        except (ValueError, IndexError, AttributeError, KeyError):
            log.warning("text %s could not be formatted; sending it unformatted", key)
            return template

    # --- topics ----------------------------------------------------------------

    def topic(self, topic_id: str) -> Topic | None:
        """The topic with this id, or ``None``."""
        return next((t for t in self.topics if t.id == topic_id), None)

    def match_topic(self, text: str, lang: str) -> Topic | None:
        """The topic whose keywords best match free text (any language; accents ignored).

        Multi-word phrases count more than single words; on a tie the heavier tone wins,
        so "removed" + "sleep" is answered as a removal, never as "this is common".
        """
        norm = normalize(text)
        if not norm:
            return None
        spaced = " " + norm
        # Every pattern is " " + words, so it can only start at a space: look up the
        # patterns beginning with the characters there (the text's words, not every
        # pattern against the whole text).
        found = {pat for pat in self._keyword_short if pat in spaced}
        heads = self._keyword_heads
        i = 0
        while i != -1:
            for pat in heads.get(spaced[i:i + _HEAD], ()):
                if spaced.startswith(pat, i):
                    found.add(pat)
            i = spaced.find(" ", i + 1)
        scores: dict[int, int] = {}
        for pat in found:
            for pos, weight in self._keyword_where[pat]:
                scores[pos] = scores.get(pos, 0) + weight
        best: tuple[int, int, int] | None = None
        chosen: Topic | None = None
        for pos, score in scores.items():
            topic = self._keyword_index[pos][0]
            rank = (score, _TONE_WEIGHT[topic.tone], -pos)
            if best is None or rank > best:
                best, chosen = rank, topic
        return chosen

    # --- resources -------------------------------------------------------------

    def resource(self, resource_id: str) -> Resource | None:
        """The resource with this id, or ``None``."""
        return next((r for r in self.resources if r.id == resource_id), None)

    def safety_categories(self) -> frozenset[str]:
        """Categories marked ``safety: true`` (crisis, emergency, abuse)."""
        return frozenset(cid for cid, c in self.categories.items() if c.safety)

    def resources_for(
        self,
        *,
        categories: Iterable[str] | None,
        region: Region | None,
        lang: str,
        now: datetime,
        demo: bool = False,
        kinds: Iterable[str] | None = None,
    ) -> list[Resource]:
        """Resources for a concern, best fit first.

        ``categories`` is the concern's list, most important first (a topic's
        ``resource_categories``); ``None`` lists everything (a coordinator's view). With a
        list, resources rank by topic fit (the earliest of the list they serve), then
        region (local help first), then open now, then the parent's language, then how
        much of the list they serve. A resource in a ``safety`` category (crisis, abuse,
        emergency) qualifies only when the list names one of its safety categories: the
        concern is about safety.
        National resources always qualify; local ones only when the region matches.
        Example (``demo_only``) entries appear only in demo mode: those for the fictional
        example region wherever the parent is (after the ones that match), those tagged
        with a real state or county (to show the ZIP lookup) only where they match.
        """
        wanted = list(dict.fromkeys(categories)) if categories is not None else None
        cats = set(wanted) if wanted is not None else None
        safety = self.safety_categories()
        kind_set = set(kinds) if kinds is not None else None
        found = [
            r
            for r in self.resources
            if (demo or not r.demo_only)
            and (cats is None or cats & set(r.categories))
            # A safety line (an abuse hotline) only for a concern that names its category.
            and (cats is None or not (safety & set(r.categories))
                 or bool(safety & set(r.categories) & cats))
            and (kind_set is None or r.kind in kind_set)
            # The fictional example region: in demo mode show it anywhere.
            and (r.serves.covers(region) or (demo and r.demo_only and r.serves.example_only))
        ]
        order = {r.id: i for i, r in enumerate(found)}
        rank = {c: i for i, c in enumerate(wanted or [])}

        def fit(r: Resource) -> int:
            """The place in the concern's list of the first category ``r`` serves."""
            return min((rank[c] for c in r.categories if c in rank), default=len(rank))

        def breadth(r: Resource) -> int:
            return -sum(1 for c in r.categories if c in rank)

        return sorted(
            found,
            key=lambda r: (
                not r.serves.covers(region),  # demo examples shown anywhere come last
                fit(r) if wanted is not None else 0,
                r.serves.national if wanted is not None else False,  # then local help
                not r.is_open(now),
                lang not in r.languages,
                breadth(r),  # serving more of the concern breaks a tie
                r.serves.national,  # local help first when it is open too
                order[r.id],
            ),
        )

    def resources_for_topic(
        self,
        topic: Topic | None,
        *,
        region: Region | None,
        lang: str,
        now: datetime,
        demo: bool = False,
    ) -> list[Resource]:
        """What a parent with this concern is offered (the flow, the after-hours answer and
        ``parentline content show-topic`` all use this one rule).

        Without a topic the concern is unknown, so not about safety: everything but the
        safety lines (those come with the crisis reply and ``/crisis``).
        """
        if topic is not None and topic.resource_categories:
            cats = list(topic.resource_categories)
        else:
            safety = self.safety_categories()
            cats = [c for c in self.categories if c not in safety]
        return self.resources_for(categories=cats, region=region, lang=lang, now=now, demo=demo)

    # --- lived experience ----------------------------------------------------------

    def experience(self, experience_id: str) -> Experience | None:
        """The experience with this id, or ``None``."""
        return next((e for e in self.experiences if e.id == experience_id), None)

    def experience_ids(self) -> tuple[str, ...]:
        return tuple(e.id for e in self.experiences)

    def experience_for_topic(self, topic_id: str | None) -> Experience | None:
        """The default experience of a topic (``cw-investigation`` -> ``child-welfare``)."""
        if not topic_id:
            return None
        return next((e for e in self.experiences if topic_id in e.topics), None)

    def experience_label(self, experience_id: str, lang: str) -> str:
        """The label in ``lang`` (English fallback); the id itself for an unknown one."""
        e = self.experience(experience_id)
        if e is None:
            return experience_id
        return e.label.get(lang) or e.label.get("en") or experience_id

    def render_resource(
        self, resource: Resource, lang: str, now: datetime, short: bool = False
    ) -> str:
        """Plain text for one resource; always shows hours and, if closed, when it opens."""
        return _render(self, resource, lang, now, short)

    # --- rights ----------------------------------------------------------------

    def rights_for(self, topic_id: str, region: Region | None, lang: str) -> list[RightsInfo]:
        """Rights information for a topic, federal first, those with text in ``lang`` first."""
        topic = self.topic(topic_id)
        wanted = set(topic.rights) if topic else set()
        found = [
            r
            for r in self.rights
            if (r.id in wanted or topic_id in r.topics) and r.applies_in(region)
        ]
        return sorted(found, key=lambda r: (lang not in r.body, bool(r.states)))
