"""Train the risk model from the corpus the repository ships (``parentline safety train``).

Why train here, in plain numpy, rather than ship someone else's weights: every example
the model learned from is in ``content/safety/corpus/`` under this repository's licence,
written by many writers with different briefs; a coordinator can add examples and
retrain; and the same data and seed give the same file, byte for byte, which
``parentline content check`` uses to say when the model is out of date.

How: logistic regression (softmax over the crisis categories, one sigmoid per other
head) with L2, full-batch Adam from zero weights. Decision thresholds are chosen on
out-of-fold predictions where each fold leaves out one *writer* (one corpus file): a
threshold must hold on phrasing the model has not seen, which is what a parent at 3 a.m.
brings.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from flows.safety.features import features, fold
from flows.safety.model import (
    BIAS,
    BINARY_HEADS,
    COLUMNS,
    CRISIS_CLASSES,
    RiskModel,
    Thresholds,
)

TRAINER_VERSION = 2
CORPUS = "corpus"  # content/safety/corpus/*.jsonl
MODEL_FILE = "risk-model.bin"  # content/safety/risk-model.bin
SEED = 20261202
MIN_DF = 2
MAX_ITER = 150
L2 = 1e-6

# Targets the thresholds are chosen for, on out-of-fold predictions, a margin under the
# product's (the full crisis response on <= 0.03 of everyday messages and <= 0.05 of
# idioms and mentions; the direct question on <= 0.08 of everyday messages). The full
# response is kept rare on everyday text: a parent who shares a strength ("I keep going")
# and gets the crisis lines feels unheard, while the direct question catches the rest.
# (History of these numbers, and what the blind runs showed: docs/safety-blind-eval.md.)
MAX_CRISIS_FP_EVERYDAY = 0.015
MAX_CRISIS_FP_HARD = 0.03
MAX_CONCERN_EVERYDAY = 0.07
MAX_ASK_FP = 0.03
HARD_GROUPS = ("idiom", "media", "history", "diagnosis", "child_words", "grief")
# A rule's medical emergency is never turned into a question: "are you thinking of ending
# your life?" is the wrong answer to "she swallowed bleach".
UNDOUBTED = ("medical_emergency",)


@dataclass(slots=True)
class Example:
    """One training row as the trainer needs it."""

    text: str
    lang: str
    source: str
    group: str
    crisis: str | None  # None: this row says nothing about crisis (a specialist's reply)
    asks: frozenset[str] | None  # None: unknown for this row
    advice: bool | None  # only a specialist's reply has it


@dataclass(slots=True)
class TrainReport:
    """What training measured, written into the model header and printed."""

    rows: int = 0
    vocab: int = 0
    folds: list[str] = field(default_factory=list)
    oof: dict[str, float] = field(default_factory=dict)


def _example(row: dict[str, Any], source: str) -> Example | None:
    lang = str(row.get("lang", "en"))
    group = str(row.get("group", "other"))
    if row.get("speaker") == "specialist":
        return Example(str(row["text"]), lang, source, group, None, None, bool(row["advice"]))
    if "messages" in row:
        text = " . ".join(str(m) for m in row["messages"])
        return Example(text, lang, source, group, str(row["crisis"]), None, None)
    if "text" not in row or "crisis" not in row:
        return None
    asks = frozenset(row["asks"]) if "asks" in row else None
    return Example(str(row["text"]), lang, source, group, str(row["crisis"]), asks, None)


def corpus_files(corpus_dir: Path) -> list[Path]:
    return sorted(Path(corpus_dir).glob("*.jsonl"))


def read_corpus(corpus_dir: Path) -> list[Example]:
    """Every row of every ``*.jsonl`` file, in file order (bad lines are content errors)."""
    out: list[Example] = []
    for path in corpus_files(corpus_dir):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            ex = _example(json.loads(line), path.stem)
            if ex is not None:
                out.append(ex)
    return out


def data_digest(safety_dir: Path) -> str:
    """What the model was trained with: the corpus, the rules beside it (the thresholds are
    chosen for rules and model together) and the trainer's version."""
    h = hashlib.sha256(f"trainer {TRAINER_VERSION} seed {SEED}\n".encode())
    root = Path(safety_dir)
    for path in [*sorted(root.glob("*.yaml")), *corpus_files(root / CORPUS)]:
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


# -- the optimiser ------------------------------------------------------------------------


class _Design:
    """The sparse design matrix (CSR: a bias column, then 1/sqrt(n) per feature present).

    scipy's sparse-times-dense products are plain loops in C: fast, and the same sums in
    the same order on every run (a reproducible model file depends on that).
    """

    def __init__(self, rows: list[list[int]], n_features: int) -> None:
        import scipy.sparse as sp  # type: ignore[import-untyped, unused-ignore]  # training only

        lengths = np.asarray([len(r) for r in rows], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.asarray([i for r in rows for i in r], dtype=np.int64)
        vals = []
        for r in rows:
            k = len(r) - 1  # the first entry is the bias
            vals.append(1.0)
            vals.extend([1.0 / math.sqrt(max(k, 1))] * k)
        self.x = sp.csr_matrix((np.asarray(vals), indices, indptr),
                               shape=(len(rows), n_features))
        self.xt = self.x.T.tocsr()
        self.n_features = n_features


def _targets(examples: list[Example]) -> tuple[np.ndarray, np.ndarray]:
    """Targets and a mask of which columns each row teaches."""
    y = np.zeros((len(examples), len(COLUMNS)))
    mask = np.zeros((len(examples), len(COLUMNS)))
    nc = len(CRISIS_CLASSES)
    for i, ex in enumerate(examples):
        if ex.crisis is not None:
            y[i, CRISIS_CLASSES.index(ex.crisis)] = 1.0
            mask[i, :nc] = 1.0
        if ex.asks is not None:
            for k, head in enumerate(("clinical", "legal", "human", "fear")):
                name = "fear_report" if head == "fear" else head
                y[i, nc + k] = 1.0 if name in ex.asks else 0.0
                mask[i, nc + k] = 1.0
        k = BINARY_HEADS.index("advice")
        if ex.advice is not None:
            y[i, nc + k] = 1.0 if ex.advice else 0.0
            mask[i, nc + k] = 1.0
        elif ex.asks is not None and "clinical" not in ex.asks:
            # Ordinary words that are not advice: without them the head has only seen
            # specialists' replies about health, and "hi, I am Ana" looks like advice.
            mask[i, nc + k] = 1.0
    return y, mask


def _fit(design: _Design, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """L-BFGS from zero weights on the summed losses of every head: no randomness, so the
    same data gives the same weights. Returns (features, heads)."""
    from scipy.optimize import minimize  # type: ignore[import-untyped, unused-ignore]

    nc = len(CRISIS_CLASSES)
    crisis_rows = mask[:, 0] > 0
    per_col = np.maximum(mask.sum(axis=0), 1.0)
    shape = (design.n_features, len(COLUMNS))

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = flat.reshape(shape)
        z = design.x @ w
        zc = z[:, :nc] - z[:, :nc].max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(zc).sum(axis=1, keepdims=True))
        logp = zc - log_norm
        loss = -float((y[:, :nc] * logp)[crisis_rows].sum()) / per_col[0]
        g = np.zeros_like(z)
        g[:, :nc] = np.where(crisis_rows[:, None], np.exp(logp) - y[:, :nc], 0.0) / per_col[0]
        zb = z[:, nc:]
        mb = mask[:, nc:]
        # log(1 + e^z) - y z, stably
        loss += float((mb * (np.logaddexp(0.0, zb) - y[:, nc:] * zb)).sum(axis=0)
                      .__truediv__(per_col[nc:]).sum())
        g[:, nc:] = (1.0 / (1.0 + np.exp(-zb)) - y[:, nc:]) * mb / per_col[nc:]
        grad = design.xt @ g
        loss += L2 * float((w[1:] ** 2).sum())
        grad[1:] += 2 * L2 * w[1:]
        return loss, grad.ravel()

    result = minimize(objective, np.zeros(shape[0] * shape[1]), jac=True, method="L-BFGS-B",
                      options={"maxiter": MAX_ITER})
    out: np.ndarray = result.x.reshape(shape)
    return out


def _rows_for(examples: list[Example], vocab: dict[str, int]) -> list[list[int]]:
    bias = vocab[BIAS]
    out = []
    for ex in examples:
        idx = [bias]
        idx.extend(i for i in map(vocab.get, features(fold(ex.text))) if i is not None)
        out.append(idx)
    return out


def _vocabulary(examples: Iterable[Example]) -> list[str]:
    df: dict[str, int] = {}
    for ex in examples:
        for f in features(fold(ex.text)):
            df[f] = df.get(f, 0) + 1
    return [BIAS, *sorted(f for f, n in df.items() if n >= MIN_DF)]


def _train(examples: list[Example]) -> tuple[list[str], np.ndarray]:
    vocab_list = _vocabulary(examples)
    vocab = {f: i for i, f in enumerate(vocab_list)}
    design = _Design(_rows_for(examples, vocab), len(vocab_list))
    y, mask = _targets(examples)
    return vocab_list, _fit(design, y, mask)


# -- thresholds ---------------------------------------------------------------------------


def _lowest_threshold(neg: list[float], max_rate: float,
                      already: list[bool] | None = None) -> float:
    """The lowest threshold at which at most ``max_rate`` of the negatives are flagged,
    counting those ``already`` flagged by something else (the rules)."""
    if not neg:
        return 0.5
    flagged = already or [False] * len(neg)
    allowed = math.floor(max_rate * len(neg)) - sum(flagged)
    rest = sorted((s for s, f in zip(neg, flagged, strict=True) if not f), reverse=True)
    if allowed < 0:
        return 0.99
    if allowed >= len(rest):
        return 0.05
    return min(0.99, max(0.05, rest[allowed] + 1e-6))


VETO_GRID = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)


def choose_thresholds(examples: list[Example], oof: list[RiskScores],
                      rules: list[RuleCall]) -> Thresholds:
    """Crisis thresholds for each language (as the text reads, see ``guess_lang``), and
    one threshold per ask head."""
    rows = list(zip(examples, oof, rules, strict=True))
    per: dict[str, tuple[float, float, float]] = {}
    for lang in ("en", "es"):
        part = [(ex, s, r) for ex, s, r in rows if s.lang == lang]
        per[lang] = _crisis_thresholds([p[0] for p in part], [p[1] for p in part],
                                       [p[2] for p in part])

    def head(name: str, field_name: str) -> float:
        pairs = [(getattr(s, field_name), r) for ex, s, r in rows
                 if (ex.advice is False if name == "advice"
                     else ex.asks is not None and name not in ex.asks)]
        already = [getattr(r, field_name, False) for _, r in pairs]
        return _lowest_threshold([p for p, _ in pairs], MAX_ASK_FP, already)

    return Thresholds(
        crisis=round(per["en"][0], 4),
        concern=round(per["en"][1], 4),
        veto=round(per["en"][2], 4),
        crisis_es=round(per["es"][0], 4),
        concern_es=round(per["es"][1], 4),
        veto_es=round(per["es"][2], 4),
        clinical=round(head("clinical", "clinical"), 4),
        legal=round(head("legal", "legal"), 4),
        human=round(head("human", "human"), 4),
        fear=round(head("fear_report", "fear"), 4),
        advice=round(head("advice", "advice"), 4),
    )


def _crisis_thresholds(examples: list[Example], oof: list[RiskScores],
                       rules: list[RuleCall]) -> tuple[float, float, float]:
    """Thresholds for rules and model together, on out-of-fold predictions.

    A rule hit the model strongly doubts (score under ``veto``) is asked about instead
    of answered with the full crisis response: rules written for one phrasing fire on
    idioms and mentions of another. The veto is the one that keeps the most crises
    within the false-positive targets. Returns (crisis, concern, veto).
    """
    rows = list(zip(examples, oof, rules, strict=True))
    everyday = [(s.crisis, r) for ex, s, r in rows
                if ex.crisis == "none" and ex.group not in HARD_GROUPS]
    hard = [(s.crisis, r) for ex, s, r in rows if ex.crisis == "none" and ex.group in HARD_GROUPS]
    positives = [(s.crisis, r) for ex, s, r in rows if ex.crisis not in (None, "none")]

    def kept(p: float, r: RuleCall, veto: float) -> bool:
        return r.crisis and (p >= veto or r.undoubted)

    best: tuple[float, float, float] | None = None  # (recall, -veto, threshold)
    for veto in VETO_GRID:
        t = max(_lowest_threshold([p for p, _ in everyday], MAX_CRISIS_FP_EVERYDAY,
                                  [kept(p, r, veto) for p, r in everyday]),
                _lowest_threshold([p for p, _ in hard], MAX_CRISIS_FP_HARD,
                                  [kept(p, r, veto) for p, r in hard]))
        recall = sum(kept(p, r, veto) or p >= t for p, r in positives) / max(len(positives), 1)
        if best is None or (recall, -veto) > best[:2]:
            best = (recall, -veto, t)
    assert best is not None
    veto, t_crisis = -best[1], best[2]
    crisis_now = [kept(p, r, veto) or p >= t_crisis for p, r in everyday]
    asked_by_rules = [not c and r.crisis for c, (_, r) in zip(crisis_now, everyday,
                                                             strict=True)]
    t_concern = _lowest_threshold(
        [p for (p, _), c in zip(everyday, crisis_now, strict=True) if not c],
        MAX_CONCERN_EVERYDAY * len(everyday) / max(sum(not c for c in crisis_now), 1),
        [a for a, c in zip(asked_by_rules, crisis_now, strict=True) if not c])
    t_concern = min(t_crisis, t_concern)

    return t_crisis, t_concern, veto


@dataclass(frozen=True, slots=True)
class RuleCall:
    """What the rules said about a training row (the thresholds are for both together)."""

    crisis: bool = False
    undoubted: bool = False  # a category the model may not veto (a medical emergency)
    clinical: bool = False
    legal: bool = False
    advice: bool = False


def rule_calls(examples: list[Example], safety_dir: Path) -> list[RuleCall]:
    """The rules' verdict on every row, with the rules beside the corpus."""
    from flows.safety.engine import advice_with, assess_with
    from flows.safety.rules import load_rules

    ruleset, _problems = load_rules(Path(safety_dir).parent)
    if ruleset is None:
        return [RuleCall() for _ in examples]
    out = []
    for ex in examples:
        if ex.advice is not None:
            out.append(RuleCall(advice=advice_with(ruleset, ex.text) is not None))
            continue
        a = assess_with(ruleset, ex.text)
        out.append(RuleCall(crisis=a.crisis, undoubted=a.category in UNDOUBTED,
                            clinical=a.clinical, legal=a.legal))
    return out


@dataclass(frozen=True, slots=True)
class RiskScores:
    """The parts of :class:`flows.safety.model.Scores` the thresholds look at."""

    crisis: float
    clinical: float
    legal: float
    human: float
    fear: float
    advice: float
    lang: str = "en"


def _score_all(model: RiskModel, examples: list[Example]) -> list[RiskScores]:
    out = []
    for ex in examples:
        s = model.score(ex.text)
        out.append(RiskScores(s.crisis, s.clinical, s.legal, s.human, s.fear, s.advice,
                              s.lang))
    return out


def _model(vocab: list[str], w: np.ndarray, header: dict[str, Any]) -> RiskModel:
    return RiskModel.load_bytes(RiskModel.dump(header, vocab, w))


def out_of_fold(examples: list[Example]) -> tuple[list[RiskScores], list[str]]:
    """Leave-one-writer-out predictions for every row (the legacy files form one fold)."""
    def fold_of(ex: Example) -> str:
        return "legacy" if ex.source.startswith("legacy") else ex.source

    folds = sorted({fold_of(ex) for ex in examples})
    scores: list[RiskScores | None] = [None] * len(examples)
    for name in folds:
        train = [ex for ex in examples if fold_of(ex) != name]
        vocab, w = _train(train)
        model = _model(vocab, w, {"thresholds": {}})
        held = [(i, ex) for i, ex in enumerate(examples) if fold_of(ex) == name]
        for (i, _ex), s in zip(held, _score_all(model, [ex for _, ex in held]), strict=True):
            scores[i] = s
    return [s for s in scores if s is not None], folds


def _cached_out_of_fold(examples: list[Example], safety_dir: Path, cache: Path | None
                        ) -> tuple[list[RiskScores], list[str]]:
    """:func:`out_of_fold`, kept in ``cache`` keyed by the data and the feature and
    training code, so that changing only how thresholds are chosen does not mean ten
    trainings again (a developer's convenience: ``--cache DIR``)."""
    if cache is None:
        return out_of_fold(examples)
    from flows.safety import features as features_module

    key = hashlib.sha256((data_digest(safety_dir) + Path(features_module.__file__).read_text()
                          + f"{MIN_DF} {MAX_ITER} {L2}").encode()).hexdigest()[:16]
    path = Path(cache) / f"oof-{key}.json"
    if path.exists():
        saved = json.loads(path.read_text())
        return [RiskScores(**s) for s in saved["scores"]], list(saved["folds"])
    scores, folds = out_of_fold(examples)
    Path(cache).mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"folds": folds, "scores": [asdict(s) for s in scores]}))
    return scores, folds


def train(safety_dir: Path, *, reuse: dict[str, Any] | None = None,
          cache: Path | None = None) -> tuple[bytes, TrainReport]:
    """Train on every file of ``safety_dir/corpus`` and return the model file and a report.

    ``reuse``: the header of an earlier model, whose thresholds and out-of-fold figures
    are kept instead of choosing them again (the slow part: one training per writer).
    ``parentline safety train --check`` uses it to show that the weights are rebuilt
    byte for byte, in a minute rather than ten.
    """
    examples = read_corpus(Path(safety_dir) / CORPUS)
    report = TrainReport(rows=len(examples))
    thresholds = Thresholds()
    writers = {"legacy" if ex.source.startswith("legacy") else ex.source for ex in examples}
    if reuse is not None:
        thresholds = Thresholds(**reuse.get("thresholds", {}))
        report.oof = dict(reuse.get("out_of_fold", {}))
        report.folds = list(reuse.get("folds", []))
    elif len(writers) > 1:  # thresholds need a writer to leave out
        oof, report.folds = _cached_out_of_fold(examples, Path(safety_dir), cache)
        rules = rule_calls(examples, Path(safety_dir))
        thresholds = choose_thresholds(examples, oof, rules)
        report.oof = _oof_summary(examples, oof, rules, thresholds)
    vocab, w = _train(examples)
    report.vocab = len(vocab)
    header = {
        "format": 1,
        "trainer_version": TRAINER_VERSION,
        "seed": SEED,
        "data_digest": data_digest(safety_dir),
        "rows": len(examples),
        "thresholds": asdict(thresholds),
        "out_of_fold": report.oof,
        "folds": report.folds,
    }
    return RiskModel.dump(header, vocab, w), report


def _oof_summary(examples: list[Example], oof: list[RiskScores], rules: list[RuleCall],
                 t: Thresholds) -> dict[str, float]:
    """Out-of-fold figures of rules and model together, as the line would decide."""
    def rate(pred: list[bool]) -> float:
        return round(sum(pred) / len(pred), 4) if pred else 0.0

    def crisis(s: RiskScores, r: RuleCall) -> bool:
        tc, _tq, tv = t.crisis_for(s.lang)
        return (r.crisis and (s.crisis >= tv or r.undoubted)) or s.crisis >= tc

    def asked(s: RiskScores, r: RuleCall) -> bool:
        return not crisis(s, r) and (r.crisis or s.crisis >= t.crisis_for(s.lang)[1])

    rows = list(zip(examples, oof, rules, strict=True))
    pos = [(ex, s, r) for ex, s, r in rows if ex.crisis not in (None, "none")]
    neg = [(ex, s, r) for ex, s, r in rows if ex.crisis == "none"]
    out: dict[str, float] = {}
    for lang in ("en", "es"):
        p = [(s, r) for ex, s, r in pos if ex.lang == lang]
        out[f"crisis_recall_{lang}"] = rate([crisis(s, r) for s, r in p])
        out[f"crisis_or_concern_recall_{lang}"] = rate([crisis(s, r) or asked(s, r)
                                                       for s, r in p])
    for lang in ("en", "es"):
        everyday = [(s, r) for ex, s, r in neg if ex.group not in HARD_GROUPS
                    and ex.lang == lang]
        hard = [(s, r) for ex, s, r in neg if ex.group in HARD_GROUPS and ex.lang == lang]
        out[f"crisis_fp_everyday_{lang}"] = rate([crisis(s, r) for s, r in everyday])
        out[f"crisis_fp_hard_{lang}"] = rate([crisis(s, r) for s, r in hard])
        out[f"concern_everyday_{lang}"] = rate([asked(s, r) for s, r in everyday])
    return out
