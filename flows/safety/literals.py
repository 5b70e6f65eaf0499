"""Cheap pre-checks for regexes: which literal text must appear for a pattern to match.

Screening runs on every message, and a few hundred word-bounded regexes cost a few
hundred microseconds even when nothing matches. Almost every rule needs some word
("myself", "pills", "overdos"), so we compute, per pattern, a small set of literals
of which at least one must occur in the text; a plain substring test (fast, in C) then
skips the regex for most rules. This is an optimization only: a pattern for which no
such set can be found is always run.
"""

from __future__ import annotations

import importlib
from typing import Any

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

# Literals shorter than this are not worth a pre-check ("he", "i").
MIN_LITERAL = 3
# Sets larger than this cost more to test than the regex saves.
MAX_SET = 400


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    ka = (min(map(len, a)), -len(a))
    kb = (min(map(len, b)), -len(b))
    return a if ka >= kb else b


def _seq(items: list[Any]) -> frozenset[str] | None:
    best: frozenset[str] | None = None
    run: list[str] = []
    for op, av in items:
        if op is _c.LITERAL:
            run.append(chr(av))
            continue
        if run:
            best = _better(best, frozenset({"".join(run)}))
            run = []
        best = _better(best, _item(op, av))
    if run:
        best = _better(best, frozenset({"".join(run)}))
    return best


def _item(op: Any, av: Any) -> frozenset[str] | None:
    if op is _c.SUBPATTERN:
        return _seq(list(av[-1]))
    if op is _c.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            got = _seq(list(alt))
            if got is None:
                return None
            out |= got
        return frozenset(out)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
        lo, _hi, body = av
        return _seq(list(body)) if lo >= 1 else None
    if op is _c.IN and all(o is _c.LITERAL for o, _ in av):
        return frozenset(chr(v) for _, v in av)
    return None


def needles(pattern: str) -> frozenset[str] | None:
    """Literals of which one must appear for ``pattern`` to match, or None if unknown."""
    try:
        found = _seq(list(_parser.parse(pattern)))
    except Exception:  # any parser surprise just disables the pre-check for this pattern
        return None
    if found is None or min(map(len, found)) < MIN_LITERAL or len(found) > MAX_SET:
        return None
    return found
