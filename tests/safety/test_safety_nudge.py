"""The specialist nudge: clinical advice is flagged, a peer's own story is not."""

from __future__ import annotations

import pytest

from flows.safety.nudge import looks_like_clinical_advice


@pytest.mark.parametrize(
    "text",
    [
        "give him 5mg",
        "Try 3 mg of melatonin at bedtime",
        "You should stop her meds for a week and see",
        "you should increase the dose",
        "Sounds like he has ADHD",
        "He probably has anxiety",
        "Your son needs meds",
        "Dele 5 mg de melatonina",
        "Parece que tiene autismo",
        "Debería subirle la dosis",
    ],
)
def test_advice_is_flagged(text: str) -> None:
    evidence = looks_like_clinical_advice(text)
    assert evidence is not None and evidence.startswith("nudge."), text


@pytest.mark.parametrize(
    "text",
    [
        "my son has ADHD too",
        "when my daughter started meds it took a few weeks",
        "That sounds so hard. I'm here with you.",
        "Maybe write your questions down for the doctor?",
        "mi hijo también tiene TDAH",
        "Cuando mi hija empezó con la medicina tardó unas semanas",
    ],
)
def test_own_story_and_support_are_not_flagged(text: str) -> None:
    assert looks_like_clinical_advice(text) is None, text


def test_story_in_one_clause_does_not_hide_advice_in_the_next() -> None:
    assert looks_like_clinical_advice("My son was on 10mg, you should double his dose") is not None
