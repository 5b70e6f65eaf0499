"""Regression floors on the FROZEN blind sets (see docs/safety-blind-eval.md).

Blind files are never used for tuning and their misses are never printed here (a
failure shows counts only). The floors sit just under the level measured when the
risk model was added (2026-12-02, the shipped model's run), so they catch regressions; they are not
the targets, which the issue sets higher and which are not all met yet.

- ``crisis_blind.jsonl`` / ``clinical_blind.jsonl``: the first blind sets (2026-11-24),
  written by one person before reading the rules;
- ``blind_v2/b1..b3.jsonl``: three writers with different briefs who saw neither the
  rules nor the training corpus, frozen before the model was trained.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.safety.evaluate import EvalReport, evaluate_rows, read_rows

DATA = Path(__file__).parent / "data"
V2 = sorted((DATA / "blind_v2").glob("b*.jsonl"))


def _report(*paths: Path) -> EvalReport:
    return evaluate_rows([r for p in paths for r in read_rows(p)], show_misses=False)


@pytest.fixture(scope="module")
def v2() -> EvalReport:
    assert len(V2) == 3
    return _report(*V2)


def _figures(report: EvalReport) -> str:
    return "; ".join(f"{k} {v}" for k, v in sorted(report.rates.items()) if "." not in k)


def test_blind_v2_is_as_big_as_the_issue_asks(v2: EvalReport) -> None:
    crisis, calm = v2.rates["crisis_recall"].total, v2.rates["crisis_fp"].total
    spanish = v2.rates["crisis_recall.es"].total + v2.rates["crisis_fp.es"].total
    assert crisis >= 400 and calm >= 400 and spanish / (crisis + calm) >= 0.40


@pytest.mark.parametrize(("name", "floor"), [
    ("crisis_recall", 0.80), ("crisis_or_concern_recall", 0.95), ("category_agreement", 0.95),
    ("sequence_crisis_or_concern_recall", 0.95), ("clinical_recall", 0.90),
    ("legal_recall", 0.85), ("human_recall", 0.95), ("fear_recall", 0.90),
    ("advice_recall", 0.90),
])
def test_blind_v2_recall_floors(v2: EvalReport, name: str, floor: float) -> None:
    for key in (name, f"{name}.en", f"{name}.es"):
        assert v2.value(key) >= floor - (0.05 if key != name else 0.0), _figures(v2)


@pytest.mark.parametrize(("name", "ceiling"), [
    ("crisis_fp.everyday", 0.03), ("crisis_fp.idiom+media", 0.05), ("concern.everyday", 0.08),
    ("clinical_fp", 0.05), ("legal_fp", 0.05), ("human_fp", 0.03), ("fear_fp", 0.05),
    ("advice_fp", 0.10),
])
def test_blind_v2_false_positive_ceilings(v2: EvalReport, name: str, ceiling: float) -> None:
    assert v2.value(name) <= ceiling, _figures(v2)


def test_blind_crisis_floor() -> None:
    report = _report(DATA / "crisis_blind.jsonl")
    assert report.crisis_recall >= 0.85, _figures(report)
    assert report.value("crisis_or_concern_recall") >= 0.95, _figures(report)
    assert report.fp_rate() <= 0.05, _figures(report)
    assert report.fp_rate("everyday") <= 0.05, _figures(report)
    assert report.fp_rate("idiom") <= 0.05, _figures(report)


def test_blind_clinical_floor() -> None:
    """The model's clinical reading trades false positives for recall on this old set
    (recall 0.68 -> 1.00, false positives 0 -> 0.15 of 40): noted in the docs."""
    report = _report(DATA / "clinical_blind.jsonl")
    assert report.clinical_recall >= 0.95, _figures(report)
    assert report.clinical_fp_rate <= 0.20, _figures(report)
