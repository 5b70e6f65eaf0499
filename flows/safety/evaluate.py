"""Measure screening on labelled files (``parentline safety eval FILE...``).

Screening is only as good as the messages it was tried on. This runs the full screen
(rules and risk model, and the conversation window for multi-message rows) the way the
line runs it, and prints, per language and with 95% Wilson intervals:

* crisis recall (the full crisis response) and crisis-or-concern recall (the crisis
  response or the direct question), and category agreement;
* the full crisis response and the direct question on messages that are not a crisis,
  by group (everyday, idiom, media, history, diagnosis, ...);
* recall and false positives of the clinical, legal, "wants a person" and "fear of
  being reported" readings, and of the specialist-advice nudge;
* plans told over several messages.

Misses are printed only with ``--misses``: the blind sets are measured by counts, and
their text must never guide changes to rules or training data.

Row formats: the corpus format of ``content/safety/corpus/`` (``crisis``, ``asks``,
``speaker``, ``messages``; see docs/safety-model.md), and the older format with a
``label`` (a crisis category or ``none``; true/false for a clinical question).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.content.yamlio import load_yaml, plain
from flows.safety import assess, assess_window
from flows.safety.nudge import looks_like_clinical_advice

LANGS = ("en", "es")
WINDOW = 4  # the line reads a parent's last few messages together (see dispatch)
HARD = ("idiom", "media")  # the product's target for these: <= 0.05
ASKS = ("clinical", "legal", "human", "fear_report")


@dataclass(slots=True)
class Rate:
    """A proportion with its 95% Wilson interval."""

    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.total += 1
        self.hits += int(hit)

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 0.0

    def interval(self) -> tuple[float, float]:
        n = self.total
        if not n:
            return (0.0, 1.0)
        z = 1.959964
        p = self.value
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return (max(0.0, centre - half), min(1.0, centre + half))

    def __str__(self) -> str:
        lo, hi = self.interval()
        return f"{self.value:.3f} ({self.hits}/{self.total}; 95% CI {lo:.3f}-{hi:.3f})"


@dataclass(frozen=True, slots=True)
class Miss:
    """One row screening got wrong (this prints test data, never live messages)."""

    index: int
    kind: str
    text: str
    expected: str
    got: str


@dataclass(slots=True)
class EvalReport:
    """Named rates (``crisis_recall``, ``crisis_recall.es``, ``crisis_fp.idiom``, ...)."""

    rates: dict[str, Rate] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    def rate(self, name: str) -> Rate:
        return self.rates.setdefault(name, Rate())

    def tally(self, name: str, lang: str, hit: bool) -> None:
        self.rate(name).add(hit)
        self.rate(f"{name}.{lang}").add(hit)

    def value(self, name: str) -> float:
        r = self.rates.get(name)
        return r.value if r else 0.0

    # The names the older tests and notes use.
    @property
    def crisis_recall(self) -> float:
        return self.value("crisis_recall") if "crisis_recall" in self.rates else 1.0

    def fp_rate(self, group: str | None = None) -> float:
        return self.value("crisis_fp" if group is None else f"crisis_fp.{group}")

    @property
    def clinical_recall(self) -> float:
        return self.value("clinical_recall") if "clinical_recall" in self.rates else 1.0

    @property
    def clinical_fp_rate(self) -> float:
        return self.value("clinical_fp")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON Lines or YAML file, in the corpus format (older rows converted)."""
    path = Path(path)
    if path.suffix in {".yaml", ".yml"}:
        data = plain(load_yaml(path))
        raw = list(data) if isinstance(data, list) else []
    else:
        raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.lstrip().startswith("#")]
    return [_modern(r) for r in raw]


def _modern(row: dict[str, Any]) -> dict[str, Any]:
    if "label" not in row:
        return row
    label = row["label"]
    out = {k: v for k, v in row.items() if k != "label"}
    if isinstance(label, bool):
        out["asks"] = ["clinical"] if label else []
        out["clinical_only"] = True
    else:
        out["crisis"] = str(label)
    return out


def _screen_sequence(messages: Sequence[str], lang: str | None) -> tuple[bool, bool, str | None]:
    """(crisis, concern, category) over a sequence, read as the line reads it: each
    message, and the window of the last few."""
    crisis = concern = False
    category: str | None = None
    for i, text in enumerate(messages):
        a = assess(text, lang)
        if a.crisis and not crisis:
            crisis, category = True, a.category
        concern = concern or a.concern
        w = assess_window(messages[max(0, i + 1 - WINDOW) : i + 1], lang)
        if w is not None:  # the window only ever asks (see bot.app.dispatch.screen)
            concern = concern or w.crisis or w.concern
    return crisis, concern, category


def _parent(report: EvalReport, i: int, row: dict[str, Any], show: bool) -> None:
    lang = str(row.get("lang", "en"))
    group = str(row.get("group", "other"))
    text = str(row["text"])
    a = assess(text, lang)
    expected = row.get("crisis")
    if expected is not None and not row.get("clinical_only"):
        if expected != "none":
            report.tally("crisis_recall", lang, a.crisis)
            report.tally("crisis_or_concern_recall", lang, a.crisis or a.concern)
            if a.crisis:
                report.tally("category_agreement", lang, expected in a.categories)
            if not a.crisis and show:
                got = "concern" if a.concern else "none"
                report.misses.append(Miss(i, "crisis-missed", text, str(expected), got))
        else:
            asked = a.concern and not a.crisis
            for name in ("crisis_fp", f"crisis_fp.{group}"):
                report.tally(name, lang, a.crisis)
            for name in ("concern", f"concern.{group}"):
                report.tally(name, lang, asked)
            if group in HARD:
                report.tally("crisis_fp.idiom+media", lang, a.crisis)
            if a.crisis and show:
                report.misses.append(Miss(i, f"crisis-false-positive ({group})", text, "none",
                                          ",".join(a.evidence)))
    if "asks" not in row or (expected not in (None, "none") and not row.get("clinical_only")):
        return  # the asks of a crisis message are not what the line answers first
    asks = set(row["asks"])
    found = {"clinical": a.clinical, "legal": a.legal, "human": a.wants_human,
           "fear_report": a.fear_of_report}
    kinds = ("clinical",) if row.get("clinical_only") else ASKS
    for kind in kinds:
        name = "fear" if kind == "fear_report" else kind
        if kind in asks:
            report.tally(f"{name}_recall", lang, found[kind])
            if not found[kind] and show:
                report.misses.append(Miss(i, f"{name}-missed", text, kind, "no"))
        else:
            report.tally(f"{name}_fp", lang, found[kind])
            if found[kind] and show:
                report.misses.append(Miss(i, f"{name}-false-positive", text, "no", kind))


def evaluate_rows(rows: Iterable[dict[str, Any]], *, show_misses: bool = False) -> EvalReport:
    report = EvalReport()
    for i, row in enumerate(rows, start=1):
        lang = str(row.get("lang", "en"))
        if row.get("speaker") == "specialist":
            held = looks_like_clinical_advice(str(row["text"]), lang) is not None
            name = "advice_recall" if row["advice"] else "advice_fp"
            report.tally(name, lang, held)
            if show_misses and held != bool(row["advice"]):
                report.misses.append(Miss(i, name, str(row["text"]), str(row["advice"]),
                                          str(held)))
        elif "messages" in row:
            crisis, concern, _cat = _screen_sequence([str(m) for m in row["messages"]], lang)
            if row["crisis"] != "none":
                report.tally("sequence_crisis_recall", lang, crisis)
                report.tally("sequence_crisis_or_concern_recall", lang, crisis or concern)
            else:
                report.tally("sequence_crisis_fp", lang, crisis)
        else:
            _parent(report, i, row, show_misses)
    return report


def evaluate_file(path: Path | str, *, show_misses: bool = True) -> EvalReport:
    """Run the full screen on every row of ``path`` and tally the results."""
    return evaluate_rows(read_rows(Path(path)), show_misses=show_misses)


ORDER = (
    "crisis_recall", "crisis_or_concern_recall", "category_agreement",
    "crisis_fp", "crisis_fp.everyday", "crisis_fp.idiom+media", "concern",
    "concern.everyday", "sequence_crisis_recall", "sequence_crisis_or_concern_recall",
    "sequence_crisis_fp", "clinical_recall", "clinical_fp", "legal_recall", "legal_fp",
    "human_recall", "human_fp", "fear_recall", "fear_fp", "advice_recall", "advice_fp",
)


def format_report(report: EvalReport) -> str:
    """Every rate, overall and per language, then per-group rates, then any misses."""
    lines: list[str] = []
    seen: set[str] = set()

    def emit(name: str) -> None:
        if name not in report.rates or name in seen:
            return
        seen.add(name)
        lines.append(f"{name}: {report.rates[name]}")
        for lang in LANGS:
            sub = f"{name}.{lang}"
            if sub in report.rates:
                seen.add(sub)
                lines.append(f"  {lang}: {report.rates[sub]}")

    for name in ORDER:
        emit(name)
    for name in sorted(report.rates):
        if name.split(".")[-1] not in LANGS:
            emit(name)
    if report.misses:
        lines.append(f"misses: {len(report.misses)}")
        for m in report.misses:
            lines.append(f"  #{m.index} [{m.kind}] expected {m.expected}, got {m.got}: {m.text}")
    return "\n".join(lines)


def main(paths: Sequence[str] | str, *, show_misses: bool = False) -> int:
    """Print the report for the files (read together); exit 0: the numbers are for people."""
    files = [paths] if isinstance(paths, str) else list(paths)
    rows = [r for p in files for r in read_rows(Path(p))]
    print(format_report(evaluate_rows(rows, show_misses=show_misses)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    raise SystemExit(main([a for a in sys.argv[1:] if a != "--misses"],
                          show_misses="--misses" in sys.argv))
