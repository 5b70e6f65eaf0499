"""The next meeting of a support group: its own time zone, DST, holidays, monthly rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from flows.content import Content, load_content
from flows.content.meetings import day_before, next_meetings, next_reminder, us_holidays
from flows.content.models import Meetings

CONTENT = Path(__file__).resolve().parents[2] / "content"
LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")


def rule(**kw: Any) -> Meetings:
    kw.setdefault("timezone", "America/Los_Angeles")
    return Meetings.model_validate(kw)


def starts(m: Meetings, now: datetime, count: int = 1) -> list[datetime]:
    return [x.start for x in next_meetings(m, now, count)]


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(CONTENT)


def test_weekly_meeting_is_computed_in_the_groups_zone() -> None:
    m = rule(weekly={"wed": ["18:30-20:00"]})
    got = next_meetings(m, datetime(2026, 12, 1, 9, 0, tzinfo=LA))[0]
    assert got.start == datetime(2026, 12, 2, 18, 30, tzinfo=LA)
    assert got.end == datetime(2026, 12, 2, 20, 0, tzinfo=LA)
    assert got.start.astimezone(UTC) == datetime(2026, 12, 3, 2, 30, tzinfo=UTC)


def test_the_same_instant_is_before_the_meeting_in_one_zone_and_after_it_in_another() -> None:
    now = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # Wed 20:00 in New York, 17:00 in LA
    east = rule(timezone="America/New_York", weekly={"wed": ["18:00-19:00"]})
    west = rule(timezone="America/Los_Angeles", weekly={"wed": ["18:00-19:00"]})
    assert starts(east, now) == [datetime(2026, 12, 9, 18, 0, tzinfo=NY)]
    assert starts(west, now) == [datetime(2026, 12, 2, 18, 0, tzinfo=LA)]


def test_a_meeting_that_has_started_is_not_the_next_one() -> None:
    m = rule(weekly={"wed": ["18:30-20:00"]})
    assert starts(m, datetime(2026, 12, 2, 18, 30, tzinfo=LA)) == [
        datetime(2026, 12, 9, 18, 30, tzinfo=LA)]


def test_wall_clock_time_holds_across_the_spring_dst_change() -> None:
    m = rule(weekly={"sun": ["18:30-20:00"]})
    before, after = starts(m, datetime(2027, 3, 1, tzinfo=LA), count=2)
    assert (before.date(), after.date()) == (date(2027, 3, 7), date(2027, 3, 14))
    assert before.utcoffset() == timedelta(hours=-8)
    assert after.utcoffset() == timedelta(hours=-7)  # DST began that morning
    assert (after.hour, after.minute) == (18, 30)
    # A week of 167 hours (subtracting in one zone would compare wall clocks).
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=7, hours=-1)


def test_wall_clock_time_holds_across_the_autumn_dst_change() -> None:
    m = rule(timezone="America/New_York", weekly={"sun": ["09:00-10:00"]})
    got = starts(m, datetime(2026, 10, 31, 12, 0, tzinfo=NY), count=2)
    assert got == [datetime(2026, 11, 1, 9, 0, tzinfo=NY), datetime(2026, 11, 8, 9, 0, tzinfo=NY)]
    assert got[0].astimezone(UTC).hour == 14  # EST (UTC-5) from 2 a.m. that day


def test_the_reminder_the_day_before_keeps_the_wall_clock_time_across_dst() -> None:
    monday = datetime(2027, 3, 15, 18, 30, tzinfo=LA)  # the day after DST began
    due = day_before(monday)
    assert due == datetime(2027, 3, 14, 18, 30, tzinfo=LA)
    assert due.utcoffset() == timedelta(hours=-7)
    sunday = datetime(2027, 3, 14, 18, 30, tzinfo=LA)  # DST began at 2 a.m. that day
    saturday = day_before(sunday)
    assert saturday == datetime(2027, 3, 13, 18, 30, tzinfo=LA)
    assert sunday.astimezone(UTC) - saturday.astimezone(UTC) == timedelta(hours=23)


def test_thanksgiving_is_skipped() -> None:
    m = rule(weekly={"thu": ["18:00-19:30"]})
    assert starts(m, datetime(2026, 11, 25, tzinfo=LA)) == [
        datetime(2026, 12, 3, 18, 0, tzinfo=LA)]


def test_the_observed_holiday_is_skipped_unless_the_group_meets_on_holidays() -> None:
    # 4 July 2026 is a Saturday: the federal holiday is observed on Friday 3 July.
    assert date(2026, 7, 3) in us_holidays(2026)
    friday = {"fri": ["10:00-11:00"]}
    now = datetime(2026, 7, 1, tzinfo=LA)
    assert starts(rule(weekly=friday), now) == [datetime(2026, 7, 10, 10, 0, tzinfo=LA)]
    assert starts(rule(weekly=friday, skip_holidays=False), now) == [
        datetime(2026, 7, 3, 10, 0, tzinfo=LA)]


def test_skipped_dates_are_skipped() -> None:
    m = rule(weekly={"wed": ["18:30-20:00"]}, skipped_dates=[date(2026, 12, 2)])
    assert starts(m, datetime(2026, 12, 1, tzinfo=LA)) == [
        datetime(2026, 12, 9, 18, 30, tzinfo=LA)]


def test_second_tuesday_of_the_month() -> None:
    m = rule(timezone="America/Chicago",
             monthly=[{"week": 2, "day": "tue", "time": "19:00-20:30"}])
    got = starts(m, datetime(2026, 12, 1, tzinfo=CHI), count=3)
    assert got == [datetime(2026, 12, 8, 19, 0, tzinfo=CHI),
                   datetime(2027, 1, 12, 19, 0, tzinfo=CHI),
                   datetime(2027, 2, 9, 19, 0, tzinfo=CHI)]
    assert starts(m, datetime(2026, 12, 8, 19, 30, tzinfo=CHI)) == [
        datetime(2027, 1, 12, 19, 0, tzinfo=CHI)]


def test_last_friday_of_the_month_skips_christmas_to_the_next_month() -> None:
    m = rule(monthly=[{"week": -1, "day": "fri", "time": "12:00-13:00"}])
    got = starts(m, datetime(2026, 11, 28, tzinfo=LA), count=2)
    assert got == [datetime(2027, 1, 29, 12, 0, tzinfo=LA),  # 25 Dec 2026 is Christmas
                   datetime(2027, 2, 26, 12, 0, tzinfo=LA)]


def test_first_monday_skips_labor_day() -> None:
    m = rule(monthly=[{"week": 1, "day": "mon", "time": "18:00-19:00"}])
    assert starts(m, datetime(2026, 9, 1, tzinfo=LA)) == [
        datetime(2026, 10, 5, 18, 0, tzinfo=LA)]


def test_every_other_week_counts_from_the_first_date() -> None:
    m = rule(biweekly=[{"first": date(2026, 12, 3), "time": "18:00-19:30"}],
             skipped_dates=[date(2026, 12, 31)])
    got = starts(m, datetime(2026, 11, 20, tzinfo=LA), count=3)
    assert got == [datetime(2026, 12, 3, 18, 0, tzinfo=LA),
                   datetime(2026, 12, 17, 18, 0, tzinfo=LA),
                   datetime(2027, 1, 14, 18, 0, tzinfo=LA)]  # 31 Dec skipped


def test_rules_combine_in_order() -> None:
    m = rule(weekly={"sat": ["10:00-11:00"]},
             monthly=[{"week": 2, "day": "tue", "time": "19:00-20:00"}])
    got = starts(m, datetime(2026, 12, 7, tzinfo=LA), count=3)
    assert [g.date() for g in got] == [date(2026, 12, 8), date(2026, 12, 12), date(2026, 12, 19)]


def test_reminder_asked_less_than_a_day_before_is_for_the_meeting_after() -> None:
    m = rule(weekly={"wed": ["18:30-20:00"]})
    meeting, due = next_reminder(m, datetime(2026, 12, 1, 9, 0, tzinfo=LA)) or (None, None)
    assert meeting is not None and meeting.start == datetime(2026, 12, 2, 18, 30, tzinfo=LA)
    assert due == datetime(2026, 12, 1, 18, 30, tzinfo=LA)
    late = next_reminder(m, datetime(2026, 12, 1, 19, 0, tzinfo=LA))
    assert late is not None and late[0].start == datetime(2026, 12, 9, 18, 30, tzinfo=LA)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        next_meetings(rule(weekly={"wed": ["18:30-20:00"]}), datetime(2026, 12, 1))


def test_a_rule_is_required_and_bad_rules_are_errors() -> None:
    with pytest.raises(ValidationError, match="add weekly"):
        Meetings.model_validate({"timezone": "America/Los_Angeles"})
    with pytest.raises(ValidationError):
        rule(monthly=[{"week": 5, "day": "tue", "time": "19:00-20:00"}])
    with pytest.raises(ValidationError):
        rule(monthly=[{"week": 2, "day": "tue", "time": "20:00-19:00"}])
    with pytest.raises(ValidationError):
        rule(timezone="Pacific Time", weekly={"wed": ["18:30-20:00"]})


def test_next_meeting_shows_in_the_parents_language_with_the_groups_zone(
    content: Content,
) -> None:
    group = content.resource("example-parent-group-en")
    assert group is not None
    now = datetime(2026, 12, 1, 9, 0, tzinfo=LA)
    en = content.render_resource(group, "en", now)
    assert "Next meeting: Wednesday, December 2 at 6:30 pm (Pacific time)" in en
    assert "The group meets in English." in en
    assert "How to join: Just come, or join by video" in en
    es = content.render_resource(group, "es", now)
    assert ("Próxima reunión: el miércoles 2 de diciembre a las 6:30 p. m. (hora del Pacífico)"
            in es)
    assert "El grupo se reúne en inglés." in es
    assert "Cómo unirte: Solo llega" in es


def test_monthly_example_group_in_spanish_says_a_la_for_one_oclock(content: Content) -> None:
    from flows.content.render import meeting_when

    one_pm = datetime(2026, 12, 8, 13, 0, tzinfo=CHI)
    assert meeting_when(content, one_pm, "es") == "el martes 8 de diciembre a la 1:00 p. m."
    assert meeting_when(content, one_pm, "en") == "Tuesday, December 8 at 1:00 pm"
    group = content.resource("example-parent-circle-monthly")
    assert group is not None
    text = content.render_resource(group, "en", datetime(2026, 12, 1, tzinfo=CHI))
    assert "Next meeting: Tuesday, December 8 at 7:00 pm (Central time)" in text
