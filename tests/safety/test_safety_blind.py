"""Regression floors on the FROZEN blind sets (see docs/safety-blind-eval.md).

The blind files were written before the rules were read and must never be used for
tuning: do not read their misses to write rules. These floors are the level reached
after the 2026-11-24 rule changes (made on crisis_dev_c.jsonl), rounded down to 0.05,
so they only catch regressions. They are not targets: recall on the blind set is far
below the held-out figures, which is the point of having it.
"""

from __future__ import annotations

from pathlib import Path

from flows.safety.evaluate import evaluate_file

DATA = Path(__file__).parent / "data"


def test_blind_crisis_floor() -> None:
    report = evaluate_file(DATA / "crisis_blind.jsonl")
    assert report.crisis_recall >= 0.75
    assert report.fp_rate() <= 0.05
    assert report.fp_rate("everyday") <= 0.05
    assert report.fp_rate("idiom") <= 0.05


def test_blind_clinical_floor() -> None:
    report = evaluate_file(DATA / "clinical_blind.jsonl")
    assert report.clinical_recall >= 0.65
    assert report.clinical_fp_rate <= 0.05
