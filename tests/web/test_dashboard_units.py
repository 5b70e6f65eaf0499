"""The dashboard's pure parts: cookies, token hashes, percentiles, Prometheus lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bot.web.dashboard.auth import issued_in_time, make_cookie, micros, read_cookie, token_hash
from bot.web.dashboard.stats import SurveySummary, minutes_label, percentile, wait_summary
from bot.web.dashboard.views import _cell
from bot.web.metrics import gauge

SECRET = b"k" * 32
NOW = datetime(2026, 3, 10, 18, 30, tzinfo=UTC)


def test_a_cookie_reads_back_until_it_expires() -> None:
    value, max_age = make_cookie(SECRET, 42, NOW)
    assert max_age == 8 * 3600
    session = read_cookie(SECRET, value, NOW + timedelta(hours=7, minutes=59))
    assert session is not None and session.staff_id == 42
    assert read_cookie(SECRET, value, NOW + timedelta(hours=8)) is None


def test_a_cookie_from_another_secret_or_altered_is_refused() -> None:
    value, _ = make_cookie(SECRET, 42, NOW)
    assert read_cookie(b"x" * 32, value, NOW) is None
    v, sid, iss, exp, sig = value.split(".")
    for bad in (f"{v}.43.{iss}.{exp}.{sig}", f"v1.{sid}.{iss}.{exp}.{sig}",
                f"{v}.{sid}.{iss}.{exp}.", f"{v}.{sid}.{int(iss) + 1}.{exp}.{sig}",
                f"{v}.{sid}.{iss}.{exp}.{sig}.x", f"v1.{sid}.{exp}.{sig}", "garbage", None,
                ""):
        assert read_cookie(SECRET, bad, NOW) is None, bad


def test_a_cookie_issued_before_the_staff_floor_is_out_of_time() -> None:
    value, _ = make_cookie(SECRET, 42, NOW)
    session = read_cookie(SECRET, value, NOW)
    assert session is not None and session.issued_at_us == micros(NOW)
    assert issued_in_time(session, None)
    assert issued_in_time(session, NOW)
    assert not issued_in_time(session, NOW + timedelta(microseconds=1))
    assert issued_in_time(session, NOW - timedelta(microseconds=1))
    est = NOW.astimezone(timezone(timedelta(hours=-5)))
    assert micros(est) == micros(NOW) == int(NOW.timestamp()) * 10**6


def test_token_hash_is_sha256_hex() -> None:
    h = token_hash("abc")
    assert h == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5], 90) == 5
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile([30, 2, 4], 90) == 30
    s = wait_summary([120, 240, 1800])
    assert (s.count, s.median, s.p90) == (3, 4, 30)


def test_minutes_labels() -> None:
    assert minutes_label(None) == "—"
    assert minutes_label(0.2) == "<1 min"
    assert minutes_label(12.4) == "12 min"
    assert minutes_label(125) == "2 h 5 min"


def test_survey_summary_ignores_out_of_range_answers() -> None:
    s = SurveySummary()
    for heard, helpful in ((5, 4), (3, None), (9, 2)):
        s.add(heard, helpful)
    assert s.heard_count == 2 and s.heard_avg == 4
    assert s.helpful_count == 2 and s.helpful_avg == 3


def test_csv_cells_cannot_become_formulas() -> None:
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("topic:sleep") == "topic:sleep"


def test_gauge_lines() -> None:
    text = gauge("x_total", "Things.", [({}, 3), ({"a": 'q"uo\\te'}, 1.5)])
    assert text == ('# HELP x_total Things.\n# TYPE x_total gauge\nx_total 3\n'
                    'x_total{a="q\\"uo\\\\te"} 1.5\n')


def test_coverage_bands_due_list_and_topic_gaps_from_shipped_content() -> None:
    from pathlib import Path

    from bot.web.dashboard.coverage import content_coverage
    from flows.content import load_content

    content = load_content(Path(__file__).parents[2] / "content")
    verified = {r.verified_on for r in content.resources}
    newest = max(verified)
    fresh = content_coverage(content, 365, newest)
    assert fresh.ages[0].count == len(content.resources)
    assert fresh.due == ()

    # Eleven and a half months later, everything verified on `newest` comes due.
    later = newest + timedelta(days=350)
    cov = content_coverage(content, 365, later)
    assert [b.label for b in cov.ages] == [
        "under 3 months", "3 to 6 months", "6 to 12 months", "over a year"]
    assert cov.ages[0].count == cov.ages[1].count == 0
    assert cov.ages[2].count + cov.ages[3].count == len(content.resources)
    group = content.resource("example-parent-group-en")
    assert group is not None
    due = {d.id: d for d in cov.due}
    expected = (group.verified_on + timedelta(days=365) - later).days
    assert 0 <= expected <= 30 and due[group.id].days_left == expected
    assert not due[group.id].overdue
    overdue = content_coverage(content, 300, later).due
    assert all(d.overdue for d in overdue if d.verified_on == newest)

    gaps = {g.topic_id: g.regions for g in cov.gaps}
    # Example County has a food bank but no local mental-health resource.
    assert "Example County, EX (example)" in gaps["parent-mental-health"]
    assert "Example County, EX (example)" not in gaps.get("money-housing-food", ())
    assert all(r.endswith("(example)") for regions in gaps.values() for r in regions)
