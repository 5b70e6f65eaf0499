"""What ``parentline content check`` says about the risk model and its corpus.

A coordinator adds examples to ``content/safety/corpus/*.jsonl`` or edits a rule; the
model shipped beside them was trained on what was there before. The check says so,
in one sentence with the command that fixes it, and points at any corpus line the
trainer could not read (``file:line: what is wrong``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flows.content.yamlio import Problem, display_path
from flows.safety.model import CRISIS_CLASSES, RiskModel
from flows.safety.train import CORPUS, MODEL_FILE, corpus_files, data_digest

_loaded: dict[tuple[str, int, int], RiskModel] = {}  # one parse per file version
ASKS = frozenset({"clinical", "legal", "human", "fear_report"})
LANGS = frozenset({"en", "es"})


def _row_problem(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "each line must be one JSON object, e.g. {\"text\": ..., \"crisis\": \"none\"}"
    if row.get("lang") not in LANGS:
        return "'lang' must be \"en\" or \"es\""
    if row.get("speaker") == "specialist":
        if not isinstance(row.get("text"), str) or not isinstance(row.get("advice"), bool):
            return "a specialist row needs 'text' and 'advice': true or false"
        return None
    if "messages" in row:
        msgs = row["messages"]
        if not isinstance(msgs, list) or len(msgs) < 2 or not all(isinstance(m, str)
                                                                  for m in msgs):
            return "'messages' must be a list of at least two texts"
    elif not isinstance(row.get("text"), str) or not row["text"].strip():
        return "a parent row needs a non-empty 'text'"
    if row.get("crisis") not in CRISIS_CLASSES:
        return f"'crisis' must be one of: {', '.join(CRISIS_CLASSES)}"
    asks = row.get("asks", [])
    if not isinstance(asks, list) or not set(asks) <= ASKS:
        return f"'asks' must be a list of: {', '.join(sorted(ASKS))}"
    also = row.get("also", [])
    if not isinstance(also, list) or not set(also) <= set(CRISIS_CLASSES[1:]):
        return "'also' must list other crisis categories"
    return None


def check_corpus(root: Path) -> list[Problem]:
    """Every corpus line the trainer could not use, as ``file:line: how to fix it``."""
    problems: list[Problem] = []
    for path in corpus_files(Path(root) / "safety" / CORPUS):
        shown = display_path(path, Path(root))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(Problem(shown, n, f"not valid JSON ({exc.msg}); each line "
                                        "is one example like {\"text\": \"...\", \"lang\": "
                                        "\"en\", \"crisis\": \"none\", \"group\": \"everyday\"}"))
                continue
            msg = _row_problem(row)
            if msg:
                problems.append(Problem(shown, n, msg))
    return problems


def load_model(root: Path) -> tuple[RiskModel | None, list[Problem]]:
    """The content folder's risk model, and whether it is out of date."""
    safety = Path(root) / "safety"
    path = safety / MODEL_FILE
    shown = display_path(path, Path(root))
    problems = check_corpus(root)
    if not path.exists():
        problems.append(Problem(shown, 1, "the risk model is missing: run "
                                "`parentline safety train` to build it from the corpus"))
        return None, problems
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        model = _loaded.get(key) or RiskModel.load(path)
        _loaded.clear()
        _loaded[key] = model
    except Exception as exc:  # a broken file is a content error, not a crash
        problems.append(Problem(shown, 1, f"the risk model cannot be read ({exc}); run "
                                "`parentline safety train` to rebuild it"))
        return None, problems
    if not problems and model.digest != data_digest(safety):
        problems.append(Problem(shown, 1, "the safety rules or the training corpus changed "
                                "since the risk model was trained: run `parentline safety "
                                "train`, then `parentline safety eval` on the blind sets",
                                "warning"))
    return model, problems
