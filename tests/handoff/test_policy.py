"""Pure handoff rules: queue order, fit, waits, and when a position update is worth sending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.policy import (
    QueueView,
    StaffView,
    best_specialist,
    experience_ok,
    fit_score,
    meaningful_change,
    order_queue,
    pick_next,
    position_of,
    wait_estimate,
)

T0 = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def q(i: int, minutes_ago: int, **kw: object) -> QueueView:
    return QueueView(id=i, queued_at=T0 - timedelta(minutes=minutes_ago), **kw)  # type: ignore[arg-type]


def test_crisis_first_then_front_then_longest_wait() -> None:
    items = [q(1, 30), q(2, 5, crisis=True), q(3, 10, front=True), q(4, 40)]
    assert [c.id for c in order_queue(items)] == [2, 3, 4, 1]
    assert position_of(1, items) == 4


def test_fit_prefers_language_previous_peer_and_experience_and_excludes_decliners() -> None:
    es = StaffView(id=10, languages=("es", "en"), experience=("child-welfare",))
    en = StaffView(id=11, languages=("en",))
    # What the flow sends for a CPS investigation: the tag, not the topic id.
    c = q(1, 5, lang="es", requested_experience="child-welfare", preferred_staff_id=10)
    s_es, s_en = fit_score(es, c), fit_score(en, c)
    assert s_es is not None and s_en is not None and s_es > s_en
    assert fit_score(es, q(2, 5, declined_by=(10,))) is None


def test_pick_next_takes_crisis_any_language_and_skips_language_waiters() -> None:
    en = StaffView(id=11, languages=("en",))
    waiting_for_es = q(1, 50, lang="es")
    normal = q(2, 10)
    assert pick_next(en, [waiting_for_es, normal]) == normal
    crisis_es = q(3, 1, lang="es", crisis=True)
    assert pick_next(en, [waiting_for_es, normal, crisis_es]) == crisis_es
    assert pick_next(en, [q(4, 5, lang="es", any_language_ok=True)]) is not None


def test_best_specialist_least_loaded_under_cap() -> None:
    c = q(1, 5)
    a = StaffView(id=1, languages=("en",), active=2, max_active=3)
    b = StaffView(id=2, languages=("en",), active=0, max_active=3)
    full = StaffView(id=3, languages=("en",), active=3, max_active=3)
    paused = StaffView(id=4, languages=("en",), paused=True)
    assert best_specialist(c, [a, b, full, paused]) == b
    assert best_specialist(c, [full, paused]) is None


def test_wait_estimate_and_meaningful_change() -> None:
    assert wait_estimate(1, 0, 0) is None
    assert wait_estimate(1, 2, 2) == 5
    assert wait_estimate(5, 0, 2) == 60
    assert meaningful_change(None, 3, None, 20)
    assert meaningful_change(2, 1, 10, 10)
    assert meaningful_change(5, 3, 30, 30)
    assert not meaningful_change(4, 3, 30, 28)
    assert meaningful_change(4, 3, 30, 20)


CPS_PEER = StaffView(id=20, languages=("en",), experience=("child-welfare",))
OTHER_PEER = StaffView(id=21, languages=("en",), experience=("iep",))


def test_the_topics_default_experience_prefers_a_peer_who_lived_it_within_the_window() -> None:
    older = q(1, 30)
    cps = q(2, 10, requested_experience="child-welfare")
    assert pick_next(CPS_PEER, [older, cps]) == cps
    assert pick_next(OTHER_PEER, [older, cps]) == older
    # A soft preference: anyone may still take the parent.
    assert experience_ok(OTHER_PEER, cps)
    assert best_specialist(cps, [OTHER_PEER, CPS_PEER]) == CPS_PEER
    assert best_specialist(cps, [OTHER_PEER]) == OTHER_PEER


def test_a_chosen_experience_is_only_offered_to_peers_who_lived_it_except_in_a_crisis() -> None:
    wish = q(1, 30, requested_experience="child-welfare", experience_only=True)
    assert not experience_ok(OTHER_PEER, wish)
    assert pick_next(OTHER_PEER, [wish]) is None
    assert pick_next(CPS_PEER, [wish]) == wish
    assert best_specialist(wish, [OTHER_PEER]) is None
    assert best_specialist(wish, [OTHER_PEER, CPS_PEER]) == CPS_PEER
    crisis = q(2, 1, requested_experience="child-welfare", experience_only=True, crisis=True)
    assert experience_ok(OTHER_PEER, crisis)
    assert pick_next(OTHER_PEER, [wish, crisis]) == crisis
    chosen, soft = fit_score(CPS_PEER, wish), fit_score(CPS_PEER, q(3, 1,
                                                       requested_experience="child-welfare"))
    assert chosen is not None and soft is not None and chosen > soft
