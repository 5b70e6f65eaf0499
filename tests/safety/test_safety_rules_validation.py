"""Broken rule files give problems a coordinator can act on: file, line, how to fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.safety import active_rules, assess, use_rules
from flows.safety.rules import load_rules

SHIPPED = Path(__file__).resolve().parents[2] / "content" / "safety"

RULE = """rules:
  - id: suicide.test
    category: suicide
    en:
      - 'kill myself'
    es:
      - 'matarme'
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    shutil.copytree(SHIPPED, tmp_path / "content" / "safety")
    return tmp_path / "content"


def _write(content: Path, name: str, text: str) -> None:
    (content / "safety" / name).write_text(text, encoding="utf-8")


def test_shipped_rules_load_cleanly() -> None:
    ruleset, problems = load_rules(SHIPPED.parent)
    assert problems == []
    assert ruleset is not None


def test_invalid_regex_is_reported_at_its_line(content: Path) -> None:
    _write(content, "crisis.yaml", RULE.replace("'matarme'", "'(matarme'"))
    ruleset, problems = load_rules(content)
    assert ruleset is None
    [p] = problems
    assert p.file.endswith("safety/crisis.yaml") and p.line == 7
    assert "not a valid regular expression" in p.message and "backslash" in p.message


def test_unknown_category(content: Path) -> None:
    _write(content, "crisis.yaml", RULE.replace("category: suicide", "category: sadness"))
    _, problems = load_rules(content)
    [p] = problems
    assert p.line == 3 and "sadness" in p.message and "self_harm" in p.message


def test_duplicate_rule_id_points_to_the_first(content: Path) -> None:
    doubled = RULE + RULE.split("rules:\n", 1)[1]
    _write(content, "crisis.yaml", doubled)
    _, problems = load_rules(content)
    [p] = problems
    assert (
        p.line == 8
        and "duplicate rule id 'suicide.test'" in p.message
        and "crisis.yaml:2" in p.message
    )


def test_missing_spanish_is_an_error(content: Path) -> None:
    _write(content, "crisis.yaml", RULE.replace("    es:\n      - 'matarme'\n", ""))
    _, problems = load_rules(content)
    [p] = problems
    assert p.line == 2 and "no Spanish patterns" in p.message


def test_unknown_macro_and_yaml_syntax(content: Path) -> None:
    _write(content, "crisis.yaml", RULE.replace("'kill myself'", "'kill <self>'"))
    _write(content, "idioms.yaml", "idioms:\n  - id: x\n    en: [a\n")
    _, problems = load_rules(content)
    messages = {(Path(p.file).name, p.line): p.message for p in problems}
    assert any("YAML syntax" in m for (f, _), m in messages.items() if f == "idioms.yaml")


def test_unknown_macro_line(content: Path) -> None:
    _write(content, "crisis.yaml", RULE.replace("'kill myself'", "'kill <self>'"))
    _, problems = load_rules(content)
    [p] = problems
    assert p.line == 5 and "unknown macro <self>" in p.message


def test_pattern_matching_everything_is_refused(content: Path) -> None:
    _write(content, "crisis.yaml", RULE.replace("'kill myself'", "'(kill)?'"))
    _, problems = load_rules(content)
    [p] = problems
    assert p.line == 5 and "matches empty text" in p.message


def test_unknown_category_in_responses(content: Path) -> None:
    path = content / "safety" / "responses.yaml"
    path.write_text(path.read_text() + "  sadness:\n    script: crisis.x\n    resources: []\n")
    _, problems = load_rules(content)
    [p] = problems
    assert Path(p.file).name == "responses.yaml" and "unknown category 'sadness'" in p.message
    assert p.line == len(path.read_text().splitlines()) - 2


def test_missing_file(content: Path) -> None:
    (content / "safety" / "nudge.yaml").unlink()
    ruleset, problems = load_rules(content)
    assert ruleset is None and "missing file" in problems[0].message


def test_use_rules_hot_reload(content: Path) -> None:
    before = active_rules()
    _write(
        content,
        "idioms.yaml",
        (SHIPPED / "idioms.yaml").read_text()
        + "  - id: idiom.test_only\n"
        + "    en: ['the laundry wants to kill myself']\n    es: ['zzz']\n",
    )
    ruleset, problems = load_rules(content)
    assert problems == [] and ruleset is not None
    text = "the laundry wants to kill myself"

    def rule_hits() -> list[str]:  # the rules' own evidence (the model reads it too)
        return [e for e in assess(text).evidence if not e.startswith("model.")]

    assert rule_hits()
    try:
        use_rules(ruleset)
        assert not rule_hits()
    finally:
        use_rules(before)
    assert rule_hits()
