"""Targets on the labelled sets, and the evaluation tool itself.

The HELD-OUT files were written before the rules and are not used for tuning: they are
the honest measure. The tuning files are what rule authors iterate on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.safety.evaluate import evaluate_file, main

DATA = Path(__file__).resolve().parent / "data"
CRISIS_FILES = [
    DATA / "crisis_heldout.jsonl",
    DATA / "crisis_tuning.jsonl",
    DATA / "crisis_tuning_b1.jsonl",
    DATA / "crisis_tuning_b2.jsonl",
]
CLINICAL_FILES = [
    DATA / "clinical_heldout.jsonl",
    DATA / "clinical_tuning.jsonl",
    DATA / "clinical_tuning_b1.jsonl",
    DATA / "clinical_tuning_b2.jsonl",
]


def _rows(path: Path) -> list[dict[str, object]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def test_data_sets_are_big_and_varied_enough() -> None:
    crisis = [r for p in CRISIS_FILES for r in _rows(p)]
    clinical = [r for p in CLINICAL_FILES for r in _rows(p)]
    assert len(crisis) >= 300 and len(clinical) >= 150
    assert sum(r["lang"] == "es" for r in crisis) / len(crisis) >= 0.25
    groups = {r["group"] for r in crisis}
    assert {"everyday", "idiom", "history", "diagnosis", "teen", "child_words"} <= groups
    for row in crisis + clinical:
        assert set(row) == {"text", "lang", "label", "group"}
    held = {r["text"] for r in _rows(CRISIS_FILES[0])}
    tuned = {r["text"] for p in CRISIS_FILES[1:] for r in _rows(p)}
    assert not held & tuned  # different phrasings: nothing shared


def test_heldout_crisis_targets() -> None:
    report = evaluate_file(DATA / "crisis_heldout.jsonl")
    assert report.crisis_recall >= 0.98, report.misses
    assert report.fp_rate("everyday") <= 0.03, report.misses
    assert report.fp_rate("idiom") <= 0.05, report.misses


def test_heldout_clinical_targets() -> None:
    """Since the risk model these files are part of its corpus (legacy-clinical.jsonl),
    so this checks the fit, not generalisation (the blind sets do that). The model's
    clinical reading trades a little precision for recall: 2 of 26 here."""
    report = evaluate_file(DATA / "clinical_heldout.jsonl")
    assert report.clinical_recall >= 0.95, report.misses
    assert report.clinical_fp_rate <= 0.08, report.misses


@pytest.mark.parametrize("name", [p.name for p in CRISIS_FILES[1:] + CLINICAL_FILES[1:]])
def test_tuning_sets_stay_green(name: str) -> None:
    report = evaluate_file(DATA / name)
    assert report.crisis_recall >= 0.98 and report.clinical_recall >= 0.95, report.misses
    # The clinical tuning files have 5 to 40 non-clinical rows: at most one may be read
    # as clinical (see test_heldout_clinical_targets).
    negatives = report.rates["clinical_fp"].total if "clinical_fp" in report.rates else 0
    assert report.fp_rate() <= 0.03, report.misses
    assert report.clinical_fp_rate * negatives <= max(1, 0.05 * negatives), report.misses


def test_main_prints_figures_and_misses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"text": "I want to kill myself", "lang": "en", "label": "suicide", "group": "direct"},
        {"text": "the weather is nice", "lang": "en", "label": "suicide", "group": "direct"},
        {"text": "this toddler is killing me", "lang": "en", "label": "none", "group": "idiom"},
        {"text": "How do I make pancakes?", "lang": "en", "label": "none", "group": "everyday"},
        {"text": "Should I double his Ritalin dose?", "lang": "en", "label": True, "group": "dose"},
        {"text": "I feel alone", "lang": "en", "label": False, "group": "feelings"},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert main(str(path)) == 0
    out = capsys.readouterr().out
    assert "crisis_recall: 0.500 (1/2; 95% CI 0.095-0.905)" in out
    assert "  en: 0.500 (1/2;" in out
    assert "crisis_fp.everyday: 0.000 (0/1;" in out and "crisis_fp.idiom: 0.000 (0/1;" in out
    assert "clinical_recall: 1.000 (1/1;" in out and "clinical_fp: 0.000 (0/1;" in out
    assert "the weather is nice" not in out  # counts only, unless misses are asked for
    assert main(str(path), show_misses=True) == 0
    out = capsys.readouterr().out
    assert "#2 [crisis-missed]" in out and "the weather is nice" in out


def test_yaml_files_work_too(tmp_path: Path) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(
        "- {text: 'quiero morirme', lang: es, label: suicide, group: direct}\n", encoding="utf-8"
    )
    assert evaluate_file(path).crisis_recall == 1.0
