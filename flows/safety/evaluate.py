"""Measure the screening rules against a labelled file (``parentline safety eval FILE``).

Rules are only as good as the messages they were tried on. A coordinator who adds an
idiom or a Spanish phrase runs this on the labelled sets in ``tests/safety/data/`` and
sees recall, false positives on everyday messages and on idioms (reported separately,
because "this toddler is killing me" is where naive rules fail), and every miss.

File format: JSON Lines or YAML list; each row has ``text``, ``lang``, ``label`` and
``group``. A string label is a crisis label (a category, or ``none``); a true/false
label is a clinical label.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.content.yamlio import load_yaml, plain
from flows.safety import assess


@dataclass(frozen=True, slots=True)
class Miss:
    """One row the rules got wrong (this prints test data, never live messages)."""

    index: int
    kind: str  # "crisis-missed", "crisis-false-positive", "category", "clinical-missed", ...
    text: str
    expected: str
    got: str


@dataclass(slots=True)
class EvalReport:
    """Counts and misses for one labelled file."""

    crisis_total: int = 0
    crisis_found: int = 0
    category_right: int = 0
    negatives: dict[str, int] = field(default_factory=dict)  # group -> non-crisis rows
    false_positives: dict[str, int] = field(default_factory=dict)  # group -> flagged
    clinical_total: int = 0
    clinical_found: int = 0
    clinical_negatives: int = 0
    clinical_false_positives: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def crisis_recall(self) -> float:
        return self.crisis_found / self.crisis_total if self.crisis_total else 1.0

    def fp_rate(self, group: str | None = None) -> float:
        """False-positive rate among non-crisis rows of ``group`` (all groups if None)."""
        if group is None:
            n, fp = sum(self.negatives.values()), sum(self.false_positives.values())
        else:
            n, fp = self.negatives.get(group, 0), self.false_positives.get(group, 0)
        return fp / n if n else 0.0

    @property
    def clinical_recall(self) -> float:
        return self.clinical_found / self.clinical_total if self.clinical_total else 1.0

    @property
    def clinical_fp_rate(self) -> float:
        n = self.clinical_negatives
        return self.clinical_false_positives / n if n else 0.0


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix in {".yaml", ".yml"}:
        data = plain(load_yaml(path))
        return list(data) if isinstance(data, list) else []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            rows.append(json.loads(line))
    return rows


def evaluate_file(path: Path | str) -> EvalReport:
    """Run :func:`flows.safety.assess` on every row of ``path`` and tally the results."""
    report = EvalReport()
    for i, row in enumerate(_rows(Path(path)), start=1):
        text, label = str(row["text"]), row["label"]
        group = str(row.get("group", "other"))
        result = assess(text, row.get("lang"))
        if isinstance(label, bool):
            if label:
                report.clinical_total += 1
                if result.clinical:
                    report.clinical_found += 1
                else:
                    report.misses.append(
                        Miss(i, "clinical-missed", text, "clinical", "not clinical")
                    )
            else:
                report.clinical_negatives += 1
                if result.clinical:
                    report.clinical_false_positives += 1
                    report.misses.append(
                        Miss(
                            i,
                            "clinical-false-positive",
                            text,
                            "not clinical",
                            ",".join(result.evidence),
                        )
                    )
            continue
        expected = str(label)
        if expected != "none":
            report.crisis_total += 1
            if result.crisis:
                report.crisis_found += 1
                if result.category == expected:
                    report.category_right += 1
                else:
                    report.misses.append(Miss(i, "category", text, expected, str(result.category)))
            else:
                report.misses.append(Miss(i, "crisis-missed", text, expected, "none"))
        else:
            report.negatives[group] = report.negatives.get(group, 0) + 1
            if result.crisis:
                report.false_positives[group] = report.false_positives.get(group, 0) + 1
                report.misses.append(
                    Miss(
                        i,
                        f"crisis-false-positive ({group})",
                        text,
                        "none",
                        ",".join(result.evidence),
                    )
                )
    return report


def format_report(report: EvalReport) -> str:
    """Human-readable summary followed by every miss."""
    lines = []
    if report.crisis_total or report.negatives:
        lines += [
            f"crisis recall: {report.crisis_recall:.3f} "
            f"({report.crisis_found}/{report.crisis_total})",
            f"category agreement: {report.category_right}/{report.crisis_found}",
            f"false positives, everyday: {report.fp_rate('everyday'):.3f} "
            f"({report.false_positives.get('everyday', 0)}/{report.negatives.get('everyday', 0)})",
            f"false positives, idioms: {report.fp_rate('idiom'):.3f} "
            f"({report.false_positives.get('idiom', 0)}/{report.negatives.get('idiom', 0)})",
            f"false positives, all non-crisis: {report.fp_rate():.3f} "
            f"({sum(report.false_positives.values())}/{sum(report.negatives.values())})",
        ]
    if report.clinical_total or report.clinical_negatives:
        lines += [
            f"clinical recall: {report.clinical_recall:.3f} "
            f"({report.clinical_found}/{report.clinical_total})",
            f"clinical false positives: {report.clinical_fp_rate:.3f} "
            f"({report.clinical_false_positives}/{report.clinical_negatives})",
        ]
    lines.append(f"misses: {len(report.misses)}")
    for m in report.misses:
        lines.append(f"  #{m.index} [{m.kind}] expected {m.expected}, got {m.got}: {m.text}")
    return "\n".join(lines)


def main(path: str) -> int:
    """Print the report for ``path``; exit status 0 (the numbers are for people to judge)."""
    print(format_report(evaluate_file(path)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1]))
