"""The risk model: its features, its file, its training, and how it joins the rules.

Training here runs on small corpora written in the test, so it is quick; the shipped
model is checked against a full fresh training in ``test_shipped_model_is_reproducible``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from flows.content import check_content
from flows.safety import Assessment, active_model, assess, assess_window, combine
from flows.safety.features import MAX_CHARS, WINDOW_CHARS, features, fold, windows
from flows.safety.model import CRISIS_CLASSES, RiskModel, Scores
from flows.safety.train import MODEL_FILE, data_digest, read_corpus, train

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "content"


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")


def _tiny_corpus(root: Path) -> Path:
    """Two writers' worth of made-up rows: enough to train and to choose thresholds."""
    safety = root / "safety"
    crisis = ["i want to die tonight", "i have the pills ready", "quiero morirme ya",
              "tengo las pastillas listas", "he choked me again", "me pego otra vez",
              "i am going to end it", "voy a terminar con todo"]
    calm = ["the baby slept well", "we went to the park", "el bebe durmio bien",
            "fuimos al parque", "this toddler is killing me lol", "me muero de sueño jaja",
            "what time is the school meeting", "a que hora es la junta"]
    for writer in ("a", "b"):
        rows: list[dict[str, object]] = []
        for i, text in enumerate(crisis):
            rows.append({"text": f"{text} {writer}{i}", "lang": "es" if i % 2 else "en",
                         "crisis": "suicide", "asks": [], "group": "direct"})
        for i, text in enumerate(calm):
            rows.append({"text": f"{text} {writer}{i}", "lang": "es" if i % 2 else "en",
                         "crisis": "none", "asks": ["human"] if i == 6 else [],
                         "group": "idiom" if "jaja" in text or "lol" in text else "everyday"})
        rows.append({"speaker": "specialist", "text": f"try melatonin {writer}", "lang": "en",
                     "advice": True, "group": "supplement"})
        rows.append({"speaker": "specialist", "text": f"when my son was little {writer}",
                     "lang": "en", "advice": False, "group": "own_experience"})
        _write(safety / "corpus" / f"{writer}.jsonl", rows)
    return safety


def test_features_fold_like_the_rules_and_stay_in_order() -> None:
    assert fold("Él NO quiere VIVIIIR, I'm done") == "el no quiere viviir, im done"
    feats = features("im done")
    assert feats[:2] == ["w:im", "<im"] and "b:im done" in feats and len(feats) == len(set(feats))


def test_long_messages_are_read_in_overlapping_windows_of_whole_sentences() -> None:
    text = fold(" ".join(f"sentence number {i} about the baby." for i in range(60)))
    parts = windows(text)
    assert len(parts) > 3 and all(len(p) <= WINDOW_CHARS for p in parts)
    for i in range(60):  # every sentence is read, none is cut in half
        assert any(f"sentence number {i} about the baby." in p for p in parts)
    assert windows("") == [] and windows("hola") == ["hola"]
    huge = fold("a" * 100 + " " + "b" * 9000)
    assert sum(len(p) for p in windows(huge)) <= MAX_CHARS + 10


def test_training_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    safety = _tiny_corpus(tmp_path / "c")
    first, report = train(safety)
    second, _ = train(safety)
    assert first == second and report.rows == 36 and report.folds == ["a", "b"]
    model = RiskModel.load_bytes(first)
    assert model.digest == data_digest(safety)
    assert model.score("i want to die tonight").crisis > model.score("we went to the park").crisis
    assert model.score("try melatonin").advice > model.score("when my son was little").advice
    # One more row is a different model.
    with (safety / "corpus" / "b.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"text": "otra fila", "lang": "es", "crisis": "none",
                            "group": "everyday"}) + "\n")
    assert train(safety)[0] != first


def test_content_check_says_when_the_model_is_out_of_date(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(SHIPPED, root)
    assert not [p for p in check_content(root) if "risk model" in p.message]
    with (root / "safety" / "corpus" / "legacy-crisis.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps({"text": "una fila nueva", "lang": "es", "crisis": "none",
                            "group": "everyday"}) + "\n")
        f.write('{"text": "no language", "crisis": "none"}\n')
    problems = [str(p) for p in check_content(root)]
    assert any("legacy-crisis.jsonl" in p and "'lang' must be" in p for p in problems)
    # Fix the bad line: now only the warning that the model must be retrained remains.
    lines = (root / "safety" / "corpus" / "legacy-crisis.jsonl").read_text().splitlines()
    (root / "safety" / "corpus" / "legacy-crisis.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    problems = [p for p in check_content(root) if "risk model" in p.message]
    assert len(problems) == 1 and problems[0].severity == "warning"
    assert "parentline safety train" in problems[0].message
    (root / "safety" / MODEL_FILE).write_bytes(b"garbage")
    broken = [p for p in check_content(root) if "risk model" in p.message]
    assert broken and broken[0].severity == "error"


def _scores(crisis: float, top: str = "suicide", second: float = 0.0, **heads: float) -> Scores:
    cats = [(top, crisis - second), ("medical_emergency", second)]
    cats += [(c, 0.0) for c in CRISIS_CLASSES[1:] if c not in (top, "medical_emergency")]
    return Scores(crisis=crisis, categories=tuple(cats), clinical=heads.get("clinical", 0.0),
                  legal=0.0, human=heads.get("human", 0.0), fear=heads.get("fear", 0.0),
                  advice=0.0)


def test_rules_and_model_together() -> None:
    model = active_model()
    t = model.thresholds
    quiet = Assessment(crisis=False, clinical=False, legal=False, category=None, evidence=())
    a = combine(quiet, _scores(min(1.0, t.crisis + 0.01)), model)
    assert a.crisis and a.category == "suicide" and "model.suicide" in a.evidence
    a = combine(quiet, _scores((t.concern + t.crisis) / 2), model)
    assert not a.crisis and a.concern and a.concern_category == "suicide"
    a = combine(quiet, _scores(t.concern / 2), model)
    assert not a.crisis and not a.concern
    # The rules' category wins; the model adds a second one with a real share.
    rules = Assessment(crisis=True, clinical=False, legal=False, category="suicide",
                       evidence=("suicide.direct",), categories=("suicide",))
    a = combine(rules, _scores(0.99, top="suicide", second=0.45), model)
    assert a.category == "suicide" and a.categories == ("suicide", "medical_emergency")
    assert a.evidence[0] == "suicide.direct"
    a = combine(quiet, _scores(0.0, fear=0.99, human=0.99), model)
    assert a.fear_of_report and a.wants_human and not a.crisis


def test_every_message_gets_a_score_and_no_text_in_evidence() -> None:
    a = assess("everyone would be better off without me", "en")
    assert a.crisis and 0.0 <= a.score <= 1.0
    assert all(" " not in e for e in a.evidence)


def test_a_window_needs_two_messages() -> None:
    assert assess_window(["only one"], "en") is None
    w = assess_window(["hello", "how are you"], "en")
    assert w is not None and not w.crisis


def test_shipped_model_is_reproducible_and_current() -> None:
    """`parentline safety train --check`: the shipped weights are exactly what the shipped
    corpus gives (the thresholds, chosen by a training per writer, are kept; the tiny
    corpus above shows that choice is reproducible too)."""
    shipped = (SHIPPED / "safety" / MODEL_FILE).read_bytes()
    built, report = train(SHIPPED / "safety", reuse=RiskModel.load_bytes(shipped).header)
    assert report.rows == len(read_corpus(SHIPPED / "safety" / "corpus"))
    assert shipped == built
