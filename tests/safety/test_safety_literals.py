"""The literal pre-check must find exactly the literals a plain scan finds.

``RuleSet.literals_in`` looks literals up by their first characters instead of testing
each one against the text; a literal it missed would silently skip the patterns it
unlocks, i.e. miss a crisis. So it is compared with the obvious scan on texts built
from the literals themselves (overlapping, nested, at the edges) and on free text.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.safety import active_rules

RULES = active_rules()
LITERALS = sorted(RULES.literals)


def plain_scan(text: str) -> frozenset[str]:
    return frozenset(lit for lit in RULES.literals if lit in text)


pieces = st.one_of(st.sampled_from(LITERALS), st.text(alphabet="abcdeilmnorst ñ'", max_size=6))


@settings(max_examples=400, deadline=None)
@given(st.lists(pieces, max_size=12))
def test_literals_found_like_a_plain_scan(parts: list[str]) -> None:
    text = "".join(parts)
    assert RULES.literals_in(text) == plain_scan(text)


def test_literals_that_overlap_or_nest_are_all_found() -> None:
    nested = [lit for lit in LITERALS if any(o != lit and o in lit for o in LITERALS)]
    assert nested, "the shipped rules have literals inside other literals"
    for lit in nested:
        assert RULES.literals_in(lit) == plain_scan(lit)
        assert RULES.literals_in(lit[1:] + lit) == plain_scan(lit[1:] + lit)


def test_short_texts() -> None:
    for text in ("", "a", "ab", LITERALS[0][:-1]):
        assert RULES.literals_in(text) == plain_scan(text)
