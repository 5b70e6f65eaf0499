"""Saved replies (``content/texts/*/replies.yaml``): the shipped set, and broken ones refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.content import ContentError, Problem, check_content, load_content
from flows.content.replies import saved_replies

SHIPPED = Path(__file__).resolve().parents[2] / "content"
ES_FILE = "content/texts/es/replies.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    dest = tmp_path / "content"
    shutil.copytree(SHIPPED, dest)
    return dest


def errors_in(problems: list[Problem], file: str) -> list[str]:
    return [p.message for p in problems if p.file == file and p.severity == "error"]


def test_shipped_replies_exist_in_every_language_with_the_same_names() -> None:
    content = load_content(SHIPPED)
    names = {lang: [r.name for r in saved_replies(content.texts, lang)]
             for lang in content.languages}
    assert names["en"] == names["es"]
    for wanted in ("here", "take_your_time", "confidentiality", "short_break",
                   "closing_tonight"):
        assert wanted in names["en"]
    es = {r.name: r for r in saved_replies(content.texts, "es")}
    assert "reportar" in es["confidentiality"].text  # the limits, said honestly
    assert "988" in es["closing_tonight"].text


def test_a_reply_missing_in_spanish_is_an_error_and_blocks_loading(root: Path) -> None:
    es = root / "texts" / "es" / "replies.yaml"
    text = es.read_text(encoding="utf-8")
    start = text.index("short_break:")
    end = text.index("closing_tonight:")
    es.write_text(text[:start] + text[end:], encoding="utf-8")
    found = errors_in(check_content(root), ES_FILE)
    assert any('"short_break" is missing in es' in m for m in found), found
    with pytest.raises(ContentError):
        load_content(root)


def test_a_reply_without_a_title_or_with_placeholders_is_an_error(root: Path) -> None:
    es = root / "texts" / "es" / "replies.yaml"
    es.write_text(es.read_text(encoding="utf-8")
                  .replace('  title: "Aquí estoy"\n', "")
                  .replace("Tómate todo el tiempo", "Tómate {tiempo} el tiempo"),
                  encoding="utf-8")
    problems = check_content(root)
    found = errors_in(problems, ES_FILE)
    assert any('"here" (title)' in m for m in found), found
    braces = next(p for p in problems if '"take_your_time": no {' in p.message)
    lines = es.read_text(encoding="utf-8").splitlines()
    assert "Tómate {tiempo}" in lines[braces.line - 1]  # points at the line to fix
    assert any('"take_your_time": no {placeholders}' in m for m in found), found
