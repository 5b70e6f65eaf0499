"""The rulebook itself: its graph, its diagram, and reading places parents type."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.parent.diagram import mermaid, write_diagrams
from flows.parent.machine import RULEBOOK, STATES, TRANSITIONS, Turn, fire, restore
from flows.parent.regions import Place, parse_place

DOCS = Path(__file__).parents[2] / "docs" / "flows" / "parent.mmd"


def test_every_state_is_reachable_and_every_target_exists() -> None:
    targets = {t["dest"] for t in TRANSITIONS} - {"="}
    assert targets <= set(STATES)
    assert set(STATES) - targets == {"new"} or set(STATES) - targets == set()


def test_one_shared_rulebook_holds_no_parents() -> None:
    turn = Turn({}, region_known=False)
    restore(turn, "listening")
    assert fire(turn, "vent") and turn.flow_state == "listening"
    assert not fire(turn, "forget_confirm")  # not from here: a stale button
    assert turn.flow_state == "listening"
    assert RULEBOOK.models == []


def test_the_diagram_is_generated_and_up_to_date(tmp_path: Path) -> None:
    text = mermaid()
    assert text.startswith("stateDiagram-v2")
    for state in STATES:
        assert state in text
    [written] = write_diagrams(tmp_path)
    assert written.read_text(encoding="utf-8") == text
    assert DOCS.read_text(encoding="utf-8") == text, "run `parentline flows diagram`"


@pytest.mark.parametrize(
    ("typed", "place"),
    [
        ("78701", Place(zip="78701", state="TX", county="Travis")),
        ("my zip is 78701-1234", Place(zip="78701", state="TX", county="Travis")),
        ("TX", Place(state="TX")),
        ("tx, travis", Place(state="TX", county="Travis")),
        ("Texas, Travis County", Place(state="TX", county="Travis")),
        ("Travis County, TX", Place(state="TX", county="Travis")),
        ("west virginia", Place(state="WV")),
        ("Nuevo México", Place(state="NM")),
        ("California condado de Los Angeles", Place(state="CA", county="Los Angeles")),
        ("OK", Place(state="OK")),
    ],
)
def test_places_parents_type(typed: str, place: Place) -> None:
    assert parse_place(typed) == place


@pytest.mark.parametrize("typed", ["ok", "in", "somewhere", "1234", "", "me"])
def test_not_places(typed: str) -> None:
    assert parse_place(typed) is None
