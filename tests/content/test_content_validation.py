"""Broken content gives a coordinator the right file, line and fix — on real files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from flows.content import ContentError, Problem, check_content, load_content

SHIPPED = Path(__file__).resolve().parents[2] / "content"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the shipped content to break."""
    dest = tmp_path / "content"
    shutil.copytree(SHIPPED, dest)
    return dest


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def mine(problems: list[Problem], file: str, severity: str = "error") -> list[Problem]:
    return [p for p in problems if p.file == file and p.severity == severity]


def add_resource(root: Path, body: str) -> Path:
    path = root / "resources" / "zz-test.yaml"
    path.write_text("resources:\n" + body, encoding="utf-8")
    return path


RESOURCE = """\
  - id: {id}
    name: {{en: "Test line", es: "Línea de prueba"}}
    kind: hotline
    crisis: {crisis}
    description: {{en: "Test.", es: "Prueba."}}
    categories: [{category}]
    serves: {{national: true}}
    contact:
      - {{type: phone, value: "{phone}"}}
    hours: {hours}
    verified_on: {verified}
    source: "test"
"""


def resource(**kw: str) -> str:
    values = {
        "id": "test-line",
        "crisis": "false",
        "category": "parenting",
        "phone": "1-800-555-0100",
        "hours": "{always: true}",
        "verified": "2026-11-01",
    }
    values.update(kw)
    return RESOURCE.format(**values)


def test_bad_phone_is_reported_on_its_own_line(root: Path) -> None:
    path = root / "resources" / "example-region.yaml"
    path.write_text(path.read_text().replace("(555) 555-0102", "555-12"), encoding="utf-8")
    problems = mine(check_content(root), "content/resources/example-region.yaml")
    assert [str(p) for p in problems] == [
        f"content/resources/example-region.yaml:{line_of(path, '555-12')}: "
        'phone "555-12" is not a phone number (expected e.g. 1-800-799-7233)'
    ]
    with pytest.raises(ContentError) as exc:
        load_content(root)
    assert "555-12" in str(exc.value)


def test_bad_phone_in_block_style_points_at_the_value_line(root: Path) -> None:
    body = resource().replace(
        '      - {type: phone, value: "1-800-555-0100"}',
        '      - type: phone\n        note: {en: "x"}\n        value: "555-12"',
    )
    path = add_resource(root, body)
    (p,) = mine(check_content(root), "content/resources/zz-test.yaml")
    assert p.line == line_of(path, "555-12")


def test_yaml_syntax_error_line(root: Path) -> None:
    path = root / "topics" / "everyday.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = line_of(path, "- id: sleep")
    # A classic slip: a second "key:" on one line without quotes.
    lines.insert(bad, "    note: en: sleep is hard")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = mine(check_content(root), "content/topics/everyday.yaml")
    assert len(problems) == 1
    assert problems[0].message.startswith("YAML syntax")
    assert problems[0].line == bad + 1


def test_missing_safety_critical_text_names_key_and_language(root: Path) -> None:
    path = root / "texts" / "es" / "privacy.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("forget_limits:")
    path.write_text(text[:start], encoding="utf-8")
    problems = mine(check_content(root), "content/texts/es/privacy.yaml")
    assert len(problems) == 1
    assert '"privacy.forget_limits" is missing in es' in problems[0].message
    with pytest.raises(ContentError):
        load_content(root)


def test_missing_ordinary_text_is_only_a_warning(root: Path) -> None:
    path = root / "texts" / "es" / "common.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("slow_down:", "# slow_down:"), encoding="utf-8")
    problems = check_content(root)
    warn = mine(problems, "content/texts/es/common.yaml", "warning")
    assert any('"common.slow_down" is missing in es' in p.message for p in warn)
    assert not mine(problems, "content/texts/es/common.yaml")


def test_placeholder_mismatch(root: Path) -> None:
    path = root / "texts" / "es" / "privacy.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("{retention_days}", "{dias}"), encoding="utf-8"
    )
    (p,) = mine(check_content(root), "content/texts/es/privacy.yaml")
    assert p.line == line_of(path, "full:")
    assert "{dias}" in p.message and "{retention_days}" in p.message


def test_broken_braces(root: Path) -> None:
    path = root / "texts" / "en" / "common.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("I didn't catch", "I didn't {catch"),
        encoding="utf-8",
    )
    (p,) = mine(check_content(root), "content/texts/en/common.yaml")
    assert p.line == line_of(path, "empty_text:")


def test_crisis_line_without_24_7_hours(root: Path) -> None:
    hours = '{timezone: America/Chicago, weekly: {mon: ["09:00-17:00"]}}'
    path = add_resource(root, resource(crisis="true", hours=hours))
    (p,) = mine(check_content(root), "content/resources/zz-test.yaml")
    assert p.line == line_of(path, "hours:")
    assert "only 24/7 lines may appear in a crisis message" in p.message


def test_unknown_category(root: Path) -> None:
    path = add_resource(root, resource(category="fod"))
    (p,) = mine(check_content(root), "content/resources/zz-test.yaml")
    assert p.line == line_of(path, "categories:")
    assert 'category "fod"' in p.message and "categories.yaml" in p.message


def test_duplicate_id_across_files(root: Path) -> None:
    add_resource(root, resource(id="lifeline-988"))
    (p,) = mine(check_content(root), "content/resources/zz-test.yaml")
    assert 'duplicate resource id "lifeline-988"' in p.message
    assert "national.yaml" in p.message


def test_unknown_timezone_and_bad_range(root: Path) -> None:
    hours = '{timezone: America/Springfield, weekly: {mon: ["19:00-10:00"]}}'
    path = add_resource(root, resource(hours=hours))
    problems = mine(check_content(root), "content/resources/zz-test.yaml")
    messages = " | ".join(p.message for p in problems)
    assert 'unknown timezone "America/Springfield"' in messages
    assert "the end must be after the start" in messages
    assert all(p.line == line_of(path, "hours:") for p in problems)


def test_unknown_field_and_missing_field(root: Path) -> None:
    body = resource().replace("    source:", "    sorce:")
    path = add_resource(root, body)
    problems = mine(check_content(root), "content/resources/zz-test.yaml")
    messages = {p.message: p.line for p in problems}
    assert messages["'sorce' is not a known field; check the spelling or remove it"] == line_of(
        path, "sorce:"
    )
    assert "'source' is missing; add it" in messages


def test_stale_verified_on_is_a_warning(root: Path) -> None:
    problems = check_content(root, today=date(2028, 6, 1))
    assert not [p for p in problems if p.severity == "error" and "content/safety" not in p.file]
    stale = [p for p in problems if "verified_on 2026-11-24" in p.message]
    assert stale and all(p.severity == "warning" for p in stale)
    assert any(p.file == "content/resources/national.yaml" for p in stale)


def test_future_verified_on_is_an_error(root: Path) -> None:
    path = add_resource(root, resource(verified="2030-01-01"))
    (p,) = mine(check_content(root), "content/resources/zz-test.yaml")
    assert p.line == line_of(path, "verified_on:")
    assert "in the future" in p.message


def test_topic_with_unknown_rights_and_category(root: Path) -> None:
    path = root / "topics" / "everyday.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("rights: [iep-504-safeguards]", "rights: [iep-rights]").replace(
            "resource_categories: [parenting, food]", "resource_categories: [parenting, fud]"
        ),
        encoding="utf-8",
    )
    problems = mine(check_content(root), "content/topics/everyday.yaml")
    assert {p.line for p in problems} == {line_of(path, "iep-rights"), line_of(path, "fud")}


def test_crisis_reply_may_only_offer_24_7_crisis_lines(root: Path) -> None:
    from dataclasses import dataclass

    from flows.content.check import check_responses
    from flows.content.parse import parse_dir

    @dataclass
    class Plan:
        script: str
        resources: tuple[str, ...]

    @dataclass
    class Rules:
        responses: dict[str, Plan]

    rules = Rules(
        {
            "suicide": Plan("privacy.short", ("lifeline-988", "nami-helpline", "nope")),
            "general": Plan("crisis.no_such_text", ()),
        }
    )
    messages = [p.message for p in check_responses(parse_dir(root), rules)]
    assert any('"nami-helpline" is not a 24/7 crisis line' in m for m in messages)
    assert any('resource "nope" does not exist' in m for m in messages)
    assert any('"crisis.no_such_text" does not exist' in m for m in messages)
    assert not any("lifeline-988" in m for m in messages)


def test_experience_with_unknown_topic_second_default_and_bad_id(root: Path) -> None:
    path = root / "experience.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("topics: [school-iep]", "topics: [school-ipe]")
        .replace("  - id: grief\n", '  - id: grief\n    topics: ["juvenile-justice"]\n')
        .replace("id: teen-parent", "id: Teen Parent"),
        encoding="utf-8",
    )
    problems = mine(check_content(root), "content/experience.yaml")
    lines = {p.line for p in problems}
    assert line_of(path, "school-ipe") in lines
    assert line_of(path, '"juvenile-justice"') in lines  # a topic has one default
    assert line_of(path, "Teen Parent") in lines
    assert any("already defaults" in p.message for p in problems)
    with pytest.raises(ContentError):
        load_content(root)


def test_experience_label_missing_in_spanish_is_a_warning(root: Path) -> None:
    path = root / "experience.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(', es: "la recuperación de una adicción"', ""),
                    encoding="utf-8")
    warned = mine(check_content(root), "content/experience.yaml", "warning")
    assert [p.line for p in warned] == [line_of(path, "addiction recovery")]
