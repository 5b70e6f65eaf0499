"""The learned risk model: a bilingual linear model over word and character n-grams.

Why a linear model and not something bigger: it runs on one CPU core in well under a
millisecond for a phone-length message, needs no download (the weights are trained in
the repository from ``content/safety/corpus/`` by ``parentline safety train``), is
rebuilt byte for byte from the same data and seed, and its behaviour can be measured
in full on blind sets. ``docs/safety-model.md`` compares it with the alternatives.

The model reads every window of a message (see :mod:`flows.safety.features`) and keeps,
per head, the strongest window. Heads:

* ``crisis`` — a distribution over ``none`` and the crisis categories;
* ``clinical``, ``legal`` — the message asks for a clinical or legal judgement;
* ``human`` — the parent asks for a real person;
* ``fear`` — the parent is afraid that asking for help brings a report;
* ``advice`` — a specialist's reply gives clinical advice (the boundary nudge).

File format (``risk-model.bin``): ``PLRISK1\\n``, a 4-byte little-endian header length,
the header as JSON (sorted keys: heads, classes, thresholds, scales, data digest), the
vocabulary (UTF-8, one feature a line), then the weights as little-endian int16 with one
scale per output column. Quantizing makes the file small and identical across machines
whose floating point rounds the last bits differently.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flows.safety.features import MAX_CHARS, features, fold, guess_lang, windows
from flows.safety.rules import CATEGORIES

MAGIC = b"PLRISK1\n"
CRISIS_CLASSES: tuple[str, ...] = ("none", *CATEGORIES)  # the file's column order
BINARY_HEADS: tuple[str, ...] = ("clinical", "legal", "human", "fear", "advice")
COLUMNS: tuple[str, ...] = CRISIS_CLASSES + BINARY_HEADS
BIAS = "<bias>"  # a feature every text has: the intercept, and no empty rows in training


@dataclass(frozen=True, slots=True)
class Scores:
    """What the model makes of one text: probabilities, no text."""

    crisis: float  # 1 - P(none) in the most worrying window
    categories: tuple[tuple[str, float], ...]  # crisis categories, most likely first
    clinical: float
    legal: float
    human: float
    fear: float
    advice: float
    lang: str = "en"  # the language the text is written in (guessed from the words)
    complete: bool = True  # False when the text was longer than the model reads

    @property
    def category(self) -> str:
        return self.categories[0][0]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision points, chosen by the trainer on out-of-fold predictions."""

    crisis: float = 0.5  # the full crisis response
    concern: float = 0.2  # ask the parent directly
    veto: float = 0.0  # a rule's crisis the model scores below this is asked about instead
    # The same three for text written in Spanish: scores run lower there, so one shared
    # threshold would catch fewer crises in Spanish at the same false-positive rate.
    crisis_es: float = 0.5
    concern_es: float = 0.2
    veto_es: float = 0.0
    clinical: float = 0.5
    legal: float = 0.5
    human: float = 0.5
    fear: float = 0.5
    advice: float = 0.5
    also: float = 0.25  # a second category is listed when its share is at least this

    def crisis_for(self, lang: str) -> tuple[float, float, float]:
        """(crisis, concern, veto) for text in ``lang``."""
        if lang == "es":
            return self.crisis_es, self.concern_es, self.veto_es
        return self.crisis, self.concern, self.veto


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    out: np.ndarray = e / e.sum()
    return out


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class RiskModel:
    """Loaded weights and the scoring of one text. Immutable after loading."""

    def __init__(self, header: dict[str, Any], vocab: list[str], weights: np.ndarray) -> None:
        self.header = header
        self.vocab = {f: i for i, f in enumerate(vocab)}
        self.weights = weights  # (len(vocab), len(COLUMNS)) float32
        self.thresholds = Thresholds(**header.get("thresholds", {}))
        self.digest: str = header.get("data_digest", "")
        self._bias = self.vocab[BIAS]

    # -- loading and saving ---------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> RiskModel:
        return cls.load_bytes(Path(path).read_bytes(), str(path))

    @classmethod
    def load_bytes(cls, raw: bytes, name: str = "model") -> RiskModel:
        path = name
        if not raw.startswith(MAGIC):
            raise ValueError(f"{path}: not a parentline risk model")
        (hlen,) = struct.unpack_from("<I", raw, len(MAGIC))
        start = len(MAGIC) + 4
        header = json.loads(raw[start : start + hlen])
        pos = start + hlen
        vlen = int(header["vocab_bytes"])
        vocab = raw[pos : pos + vlen].decode("utf-8").split("\n")
        pos += vlen
        cols = len(header["columns"])
        if tuple(header["columns"]) != COLUMNS:
            raise ValueError(f"{path}: model columns {header['columns']} do not match the code")
        q = np.frombuffer(raw, dtype="<i2", count=len(vocab) * cols, offset=pos)
        scales = np.asarray(header["scales"], dtype=np.float32)
        weights = q.reshape(len(vocab), cols).astype(np.float32) * scales
        return cls(header, vocab, weights)

    @staticmethod
    def dump(header: dict[str, Any], vocab: list[str], weights: np.ndarray) -> bytes:
        """Serialize deterministically (no timestamps, sorted keys, fixed rounding)."""
        cols = weights.shape[1]
        peak = np.abs(weights).max(axis=0)
        scales = [float(np.float32(p / 32767.0)) if p > 0 else 1.0 for p in peak]
        q = np.rint(weights / np.asarray(scales)).clip(-32767, 32767).astype("<i2")
        vocab_bytes = "\n".join(vocab).encode("utf-8")
        head = {**header, "columns": list(COLUMNS), "scales": scales,
                "vocab_bytes": len(vocab_bytes)}
        assert cols == len(COLUMNS)
        hjson = json.dumps(head, sort_keys=True, separators=(",", ":")).encode("utf-8")
        return MAGIC + struct.pack("<I", len(hjson)) + hjson + vocab_bytes + q.tobytes()

    # -- scoring --------------------------------------------------------------------------

    def raw(self, folded: str) -> np.ndarray:
        """Column scores (logits) of one window of folded text."""
        get = self.vocab.get
        idx = [self._bias]
        idx.extend(i for i in map(get, features(folded)) if i is not None)
        rows = self.weights[idx]
        n = len(idx)
        out: np.ndarray = rows[0] + rows[1:].sum(axis=0) / math.sqrt(max(n - 1, 1))
        return out

    def score(self, text: str) -> Scores:
        """Score a message: every window, the strongest per head."""
        folded = fold(text)
        best_crisis = -1.0
        best_probs: np.ndarray | None = None
        binary = [-1e9] * len(BINARY_HEADS)
        for piece in windows(folded) or [""]:
            z = self.raw(piece)
            probs = _softmax(z[: len(CRISIS_CLASSES)])
            p = 1.0 - float(probs[0])
            if p > best_crisis:
                best_crisis, best_probs = p, probs
            tail = z[len(CRISIS_CLASSES) :]
            for k in range(len(BINARY_HEADS)):
                binary[k] = max(binary[k], float(tail[k]))
        assert best_probs is not None
        cats = sorted(
            ((CRISIS_CLASSES[i], float(best_probs[i])) for i in range(1, len(CRISIS_CLASSES))),
            key=lambda kv: -kv[1],
        )
        clinical, legal, human, fear, advice = (_sigmoid(x) for x in binary)
        return Scores(
            crisis=best_crisis,
            categories=tuple(cats),
            clinical=clinical,
            legal=legal,
            human=human,
            fear=fear,
            advice=advice,
            lang=guess_lang(folded),
            complete=len(text) <= MAX_CHARS,
        )
