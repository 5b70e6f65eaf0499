"""Open Referral (HSDS) import: real packages in, YAML the real loader accepts out, and a
coordinator's hand edits never lost on re-import.

The packages under ``data/hsds/`` are small and fictional, written by hand from the spec.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from flows.content import Resource, check_content, load_content
from flows.content.hsds import HsdsError, Report, import_package, map_term
from flows.content.hsds.read import Term

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "hsds"
SHIPPED = HERE.parents[1] / "content"
REPO = HERE.parents[1]
TODAY = date(2026, 12, 4)
TZ = "America/Los_Angeles"
PANTRY = "example-211-3f0c1a52-0001-4e1e-9a11-000000000001"
WARMLINE = "example-211-3f0c1a52-0002-4e1e-9a11-000000000002"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A private copy of the shipped content to import into."""
    dest = tmp_path / "content"
    shutil.copytree(SHIPPED, dest)
    return dest


@pytest.fixture
def v3(tmp_path: Path) -> Path:
    """A private copy of the HSDS 3.0 sample, to change as "the source" would."""
    dest = tmp_path / "source" / "example-211.json"
    dest.parent.mkdir()
    shutil.copy(DATA / "v3" / "services.json", dest)
    return dest


def edit_source(path: Path, change: Callable[[list[dict[str, Any]]], object]) -> None:
    """Change the sample as the source would between two imports."""
    services = json.loads(path.read_text(encoding="utf-8"))
    change(services)
    path.write_text(json.dumps(services), encoding="utf-8")


def run_import(package: Path, root: Path, today: date = TODAY, source: str | None = None) -> Report:
    return import_package(package, root, timezone=TZ, today=today, source=source)


def resources(root: Path, today: date = TODAY) -> dict[str, Resource]:
    """Through the real loader: raises if ``content check`` would refuse the content."""
    return {r.id: r for r in load_content(root, today=today).resources}


def test_hsds3_json_imports_to_yaml_the_loader_accepts(root: Path, v3: Path) -> None:
    report = run_import(v3, root)

    assert [rid for rid, _ in report.added] == [PANTRY, WARMLINE]
    assert dict(report.skipped) == {
        "3f0c1a52-0003-4e1e-9a11-000000000003": "its status is 'defunct' in the source",
        "3f0c1a52-0004-4e1e-9a11-000000000004": "it has no weekly opening hours in the source",
    }
    assert report.unmapped == {'PH-6200.6400 "Parenting Skills Classes"': 1}
    loaded = resources(root)
    pantry, warm = loaded[PANTRY], loaded[WARMLINE]
    assert pantry.categories == ["food"]  # BD-1800.2000 under the map's "BD"
    assert [(c.type, c.value) for c in pantry.contact] == [
        ("phone", "(555) 555-0150"),  # the fax is not offered
        ("web", "https://pantry.example.org"),
        ("address", "12 Example Road, Exampleville, EX 00012"),
    ]
    assert pantry.serves.counties[0].county == "Example County"
    assert pantry.verified_on == date(2026, 11, 1)  # the source's assured_date
    assert pantry.languages == ["es", "en"]
    assert not pantry.crisis
    la = ZoneInfo(TZ)
    assert pantry.is_open(datetime(2026, 12, 8, 11, 0, tzinfo=la))  # Tuesday
    assert not pantry.is_open(datetime(2026, 12, 8, 3, 0, tzinfo=la))
    assert not pantry.is_open(datetime(2026, 12, 9, 11, 0, tzinfo=la))  # Wednesday
    assert warm.always_open and warm.categories == []
    assert [(c.type, c.value) for c in warm.contact] == [
        ("phone", "1-555-555-0151"), ("text", "741741")
    ]
    assert warm.verified_on == TODAY
    assert warm.source.startswith("Open Referral HSDS 3.0 import from example-211")
    text = (root / "resources" / "imported-example-211.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Imported from Open Referral (HSDS)")


def test_hsds2_csv_package_imports_to_yaml_the_loader_accepts(root: Path) -> None:
    report = run_import(DATA / "v2", root, source="Example 2.0")

    assert [rid for rid, _ in report.added] == ["example-2-0-svc-1", "example-2-0-svc-2"]
    assert report.skipped == []
    notes = dict((n, sid) for sid, n in report.notes)
    assert notes['phone "555-12" was left out: it is not a number we can dial'] == "svc-2"
    assert notes['language "Klingon" was not recognised; add it by hand'] == "svc-2"
    assert report.unmapped == {'YZ-1234 "Mystery Term"': 1}
    loaded = resources(root)
    respite, legal = loaded["example-2-0-svc-1"], loaded["example-2-0-svc-2"]
    assert respite.categories == ["respite", "caregiver"]  # by the term's name
    assert respite.contact[0].note == {"en": "extension 12", "es": "extensión 12"}
    assert respite.contact[2].value == "info@family.example.org"  # the organization's
    assert respite.hours.weekly == {"mon": ["08:30-16:30"], "wed": ["08:30-16:30"],
                                    "fri": ["08:30-16:30"]}
    assert respite.cost == {"en": "Sliding scale"}
    assert legal.categories == ["legal"]  # FT-3200 under the map's "FT"
    assert legal.serves.zip_prefixes == ["00013"]  # no area: its own ZIP only, and said so
    assert any("serves its own ZIP code only" in n for n in notes)
    # Thursday 18:00 to 01:00 is split at midnight, as content files want it.
    assert legal.hours.weekly == {"thu": ["18:00-24:00"], "fri": ["00:00-01:00"]}
    assert legal.languages == ["es"]


def test_reimport_updates_in_place_and_reports_what_changed(root: Path, v3: Path) -> None:
    run_import(v3, root)
    out = root / "resources" / "imported-example-211.yaml"
    first = out.read_bytes()

    again = run_import(v3, root)
    assert again.unchanged and not again.conflicts and not again.kept
    assert out.read_bytes() == first  # nothing changed: not one byte

    def change(services: list[dict[str, Any]]) -> None:
        services[0]["phones"][0]["number"] = "(555) 555-0158"
        services[0]["schedules"][0]["byday"] = "TU,TH,SA"
        del services[1]  # the warmline closed

    edit_source(v3, change)
    report = run_import(v3, root)

    assert {(c.id, c.field) for c in report.changed} == {(PANTRY, "contact"), (PANTRY, "hours")}
    hours = next(c for c in report.changed if c.field == "hours")
    assert "sat" not in hours.old["weekly"] and hours.new["weekly"]["sat"] == ["10:00-14:00"]
    assert report.removed == [WARMLINE]
    loaded = resources(root)
    assert WARMLINE not in loaded
    assert loaded[PANTRY].contact[0].value == "(555) 555-0158"
    assert "sat" in loaded[PANTRY].hours.weekly


def test_a_hand_edit_is_kept_and_a_clash_with_the_source_is_a_conflict(
    root: Path, v3: Path
) -> None:
    run_import(v3, root)
    out = root / "resources" / "imported-example-211.yaml"
    text = out.read_text(encoding="utf-8")
    edited = text.replace(
        "en: Free groceries every Tuesday and Thursday.",
        "en: Free groceries Tuesday and Thursday; bring a bag.  # confirmed by phone",
    ).replace("kind: service\n    description:\n      en: A parent",
              "kind: hotline\n    description:\n      en: A parent")
    assert edited.count("bring a bag") == 1 and "kind: hotline" in edited
    out.write_text(edited, encoding="utf-8")

    def change(services: list[dict[str, Any]]) -> None:
        services[0]["description"] = "Free groceries, now on Saturdays too."
        services[1]["fees_description"] = "Free, always"

    edit_source(v3, change)
    report = run_import(v3, root)

    [conflict] = report.conflicts
    assert (conflict.id, conflict.field) == (PANTRY, "description")
    assert conflict.old == {"en": "Free groceries Tuesday and Thursday; bring a bag."}
    assert conflict.new == {"en": "Free groceries, now on Saturdays too."}
    assert [(c.id, c.field) for c in report.kept] == [(WARMLINE, "kind")]
    assert [(c.id, c.field, c.new) for c in report.changed] == [
        (WARMLINE, "cost", {"en": "Free, always"})
    ]
    after = out.read_text(encoding="utf-8")
    assert "bring a bag.  # confirmed by phone" in after  # the edit and its comment
    assert "Saturdays" not in after
    loaded = resources(root)
    assert loaded[WARMLINE].kind == "hotline"
    assert loaded[WARMLINE].cost == {"en": "Free, always"}

    # Reported once: the next import (same source) keeps the edit quietly.
    third = run_import(v3, root)
    assert not third.conflicts and not third.changed
    assert {(c.id, c.field) for c in third.kept} == {(PANTRY, "description"),
                                                     (WARMLINE, "kind")}
    assert "bring a bag" in out.read_text(encoding="utf-8")


def test_a_deleted_entry_stays_deleted_and_an_edited_gone_one_stays(
    root: Path, v3: Path
) -> None:
    run_import(v3, root)
    out = root / "resources" / "imported-example-211.yaml"
    text = out.read_text(encoding="utf-8")
    start = text.index(f"  - id: {WARMLINE}")
    out.write_text(text[:start].replace("kind: service", "kind: program"), encoding="utf-8")

    report = run_import(v3, root)
    assert report.not_readded == [WARMLINE] and not report.added
    assert WARMLINE not in resources(root)

    edit_source(v3, lambda services: services.pop(0))  # the pantry left the source
    report = run_import(v3, root)
    assert report.kept_gone == [PANTRY] and not report.removed
    assert resources(root)[PANTRY].kind == "program"


def test_verified_on_moves_only_when_the_source_changed(root: Path) -> None:
    package = DATA / "v2"  # HSDS 2.0 carries no assured date: the import date stands in
    run_import(package, root, today=date(2026, 12, 1))
    later = run_import(package, root, today=TODAY)
    assert later.unchanged
    assert resources(root)["v2-svc-1"].verified_on == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("name", "files", "message"),
    [
        ("missing", {}, "no such file or folder."),
        ("bad.json", {"": '[{"id": "1", "name": "x",}]'}, "bad.json is not valid JSON (line 1"),
        ("noname.json", {"": '[{"id": "1", "status": "active"}]'},
         "noname.json, service 1: 'name' is missing."),
        ("notes.txt", {"": "hello"}, "notes.txt: give an HSDS 3.0 .json file or the folder"),
        ("empty", {"readme.md": "x"}, "no services.csv (HSDS 2.0) and no .json file (HSDS 3.0)"),
        ("nocol", {"services.csv": "id,title\n1,x\n"}, "services.csv has no 'name' column"),
        ("noval", {"services.csv": "id,name\n1,\n"}, "services.csv line 2: 'name' is empty."),
        ("ragged", {"services.csv": "id,name\n1,a,b\n"}, "services.csv line 2 has more cells"),
        ("twice.json", {"": '[{"id": "1", "name": "a"}, {"id": "1", "name": "b"}]'},
         "service id '1' appears twice in the package."),
    ],
)
def test_malformed_input_is_one_clear_sentence(
    root: Path, tmp_path: Path, name: str, files: dict[str, str], message: str
) -> None:
    path = tmp_path / name
    for fname, body in files.items():
        if fname:
            path.mkdir(exist_ok=True)
            (path / fname).write_text(body, encoding="utf-8")
        else:
            path.write_text(body, encoding="utf-8")
    with pytest.raises(HsdsError) as exc:
        run_import(path, root)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert not list((root / "resources").glob("imported-*"))


def test_taxonomy_map_codes_cover_their_children_and_names_match_any_case() -> None:
    taxonomy = {"BD": ["food"], "BD-1800.2000": ["food", "money"], "respite care": ["respite"]}
    assert map_term(Term(code="BD-1800.2000-620"), taxonomy) == ["food", "money"]
    assert map_term(Term(code="BD-5000"), taxonomy) == ["food"]
    assert map_term(Term(code="ZZ-1", name="Respite Care"), taxonomy) == ["respite"]
    assert map_term(Term(code="ZZ-1", name="Something"), taxonomy) is None


def test_content_check_rejects_a_taxonomy_map_to_an_unknown_category(root: Path) -> None:
    path = root / "resources" / "hsds-taxonomy.yaml"
    path.write_text("terms:\n  BD: [food]\n  BH: [housng]\n", encoding="utf-8")
    errors = [p for p in check_content(root, today=TODAY) if p.severity == "error"]
    assert [(p.file, p.line) for p in errors] == [("content/resources/hsds-taxonomy.yaml", 3)]
    assert '"BH" maps to category "housng"' in errors[0].message


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=120)


def test_cli_imports_reports_a_diff_on_reimport_and_content_check_passes(
    root: Path, v3: Path
) -> None:
    args = ("resources", "import", str(v3), "--content", str(root), "--timezone", TZ,
            "--today", TODAY.isoformat())
    res = cli(*args)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert f"+ {PANTRY}: added (Example Community Pantry)" in lines
    assert lines[-1] == "content check: OK. Review the file (git diff) before you deploy it."

    edit_source(v3, lambda s: s[0]["phones"][0].update(number="(555) 555-0158"))
    res = cli(*args)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    assert f'~ {PANTRY}.contact: - {{"type": "phone", "value": "(555) 555-0150"}}' in lines
    assert f'~ {PANTRY}.contact: + {{"type": "phone", "value": "(555) 555-0158"}}' in lines
    check = cli("content", "check", str(root), "--today", TODAY.isoformat())
    assert check.returncode == 0, check.stdout


def test_cli_malformed_package_is_a_sentence_not_a_traceback(root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    res = cli("resources", "import", str(bad), "--content", str(root), "--timezone", TZ)
    assert res.returncode == 1
    assert res.stderr.startswith("Nothing imported: bad.json is not valid JSON (line 1")
    assert "Traceback" not in res.stderr
    res = cli("resources", "import", str(bad), "--content", str(root), "--timezone", "Mars/Base")
    assert res.returncode == 1 and "unknown timezone" in res.stderr
    assert "Traceback" not in res.stderr


def test_hours_in_another_utc_offset_than_the_time_zone_are_left_out(
    root: Path, v3: Path
) -> None:
    # The pantry's schedule says UTC-8; read as New York time it would be wrong by 3 hours.
    report = import_package(v3, root, timezone="America/New_York", today=TODAY)
    assert [rid for rid, _ in report.added] == [WARMLINE]
    assert ("3f0c1a52-0001-4e1e-9a11-000000000001",
            "it has no weekly opening hours in the source") in report.skipped
    assert any("UTC-8" in note and "UTC-5 or UTC-4" in note for _, note in report.notes)


def test_dry_run_writes_nothing_and_a_deleted_file_starts_over(root: Path, v3: Path) -> None:
    dry = import_package(v3, root, timezone=TZ, today=TODAY, dry_run=True)
    assert len(dry.added) == 2
    assert not list((root / "resources").glob("*imported-*"))
    run_import(v3, root)
    out = root / "resources" / "imported-example-211.yaml"
    out.unlink()  # a coordinator starts over; the state beside it must not block that
    again = run_import(v3, root)
    assert [rid for rid, _ in again.added] == [PANTRY, WARMLINE] and not again.not_readded
