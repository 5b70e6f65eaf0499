"""Crisis screening on the phrases the product requirements name, one by one.

Each case is a sentence a parent (or a teen) could really send; the comment on a group
says why it is hard. Evidence must be rule ids, never text.
"""

from __future__ import annotations

import pytest

from flows.safety import Assessment, assess

CRISIS = [
    # euphemisms
    ("everyone would be better off without me", "suicide"),
    ("I've been giving my things away", "suicide"),
    # text-speak, typos, lower case, missing apostrophes
    ("kms", "suicide"),
    ("i just want to unalive myself", "suicide"),
    ("gonna od on my pils tonight", "suicide"),
    ("i dont want to live anymore", "suicide"),
    ("I want to kill myselffff", "suicide"),
    ("i want to diiie", "suicide"),
    # negation of wanting to live is itself the crisis
    ("I don't want to live anymore", "suicide"),
    ("I'm not sure I want to live", "suicide"),
    # past history does not cancel a current clause
    ("I used to cut, and last night I did it again", "self_harm"),
    ("I don't want to die but I keep thinking about killing myself", "suicide"),
    # plan, time, pills, goodbye
    ("I've decided tonight is the night", "suicide"),
    ("I've been stockpiling my pills", "suicide"),
    ("This is my goodbye. Take care of my kids when I'm gone.", "suicide"),
    ("I just took a whole bottle of pills", "medical_emergency"),
    # a child's own words still count
    ("she said she wants to disappear forever", "child_in_danger"),
    ("My son told me he wants to kill himself", "child_in_danger"),
    # a parent afraid they will hurt their child
    ("I'm scared I'm going to hurt my baby", "harm_to_child"),
    ("I shook the baby and I'm terrified", "harm_to_child"),
    ("My husband choked me last night", "domestic_violence"),
    ("The voices are telling me to hurt my kids", "psychosis"),
    # a minor writing: youth lines
    ("im 14 and my dad hits me", "minor"),
    ("I'm 15 and I want to kill myself", "minor"),
    # Spanish, with and without accents
    ("Ya no quiero vivir", "suicide"),
    ("ya no kiero vivir", "suicide"),
    ("Mis hijos estarían mejor sin mí", "suicide"),
    ("Me tomé todas las pastillas", "medical_emergency"),
    ("Tengo miedo de hacerle daño a mi bebé", "harm_to_child"),
    ("Mi hija dice que se quiere morir", "child_in_danger"),
    ("Mi esposo me golpea", "domestic_violence"),
    ("tengo 14 años y mi papá me pega", "minor"),
]

NOT_CRISIS = [
    # idioms and hyperbole
    "this toddler is killing me",
    "I'm dead tired",
    "bedtime is murder",
    "I could kill for a coffee",
    "he says he'll die if he can't have the new phone",
    "My husband will kill me if I buy another stroller",
    "The kids overdosed on sugar at the party",
    "Me muero de sueño",
    "Este niño me está matando",
    # negation
    "I'm not going to kill myself, I just need to vent",
    "I don't want to die",
    "No me voy a matar, solo necesito hablar",
    # past history
    "I used to self-harm as a teen, I'm doing well now",
    "Hace años intenté suicidarme, ahora estoy bien",
    # parents with serious mental illness naming diagnosis, medication, past symptoms
    "I have bipolar and I'm stable on lithium",
    "I heard voices years ago, they're gone with meds",
    "Tengo esquizofrenia y estoy estable con mi medicamento",
    # everyday
    "How do I get my toddler to sleep?",
    "I'm 15 weeks pregnant and exhausted",
]


@pytest.mark.parametrize(("text", "category"), CRISIS)
def test_crisis_is_found_with_its_category(text: str, category: str) -> None:
    result = assess(text)
    assert result.crisis, text
    assert result.category == category, (text, result.evidence)
    assert result.evidence and all(text not in e for e in result.evidence)


@pytest.mark.parametrize("text", NOT_CRISIS)
def test_not_a_crisis(text: str) -> None:
    result = assess(text)
    assert not result.crisis, (text, result.evidence)
    assert result.category is None


def test_crisis_buried_in_a_long_everyday_message() -> None:
    everyday = "We had soccer, then groceries, then the car broke down again. " * 15
    text = everyday + "Honestly I keep thinking about killing myself. " + everyday
    assert assess(text).category == "suicide"


def test_diagnosis_and_medication_disclosures_are_not_clinical() -> None:
    for text in (
        "I have bipolar and I'm stable on lithium",
        "I'm on lithium and scared I'm a bad mom",
    ):
        result = assess(text)
        assert not result.clinical and not result.crisis, text


@pytest.mark.parametrize(
    "text",
    [
        "Should I increase his Ritalin dose?",
        "Can I give my toddler Benadryl to help him sleep?",
        "Does my son have autism?",
        "¿Puedo darle melatonina a mi hija de 3 años?",
    ],
)
def test_clinical_questions(text: str) -> None:
    result = assess(text)
    assert result.clinical and not result.legal and not result.crisis, text


def test_medicine_logistics_and_feelings_are_not_clinical() -> None:
    text = "my kid hates taking medicine, how do other parents make it less of a fight?"
    assert not assess(text).clinical


@pytest.mark.parametrize(
    "text",
    [
        "should I sign the safety plan CPS gave me?",
        "can they take my kids if I refuse the drug test",
        "Will I lose custody if I go to rehab?",
        "¿Me pueden quitar a mis hijos si no firmo?",
    ],
)
def test_legal_questions(text: str) -> None:
    result = assess(text)
    assert result.legal and not result.clinical, text


def test_everyday_questions_are_not_legal() -> None:
    for text in ("Should I let my son have a phone at 11?", "CPS came today and I'm scared"):
        assert not assess(text).legal, text


def test_assessment_holds_no_text() -> None:
    result = assess("I want to kill myself")
    assert isinstance(result, Assessment)
    assert set(Assessment.__slots__) == {
        "crisis", "clinical", "legal", "category", "evidence", "concern", "score", "categories",
        "wants_human", "fear_of_report", "concern_category", "tempered"}  # no text
    assert all(isinstance(e, str) and " " not in e for e in result.evidence)


def test_language_hint_does_not_hide_the_other_language() -> None:
    assert assess("Ya no quiero vivir", "en").crisis
    assert assess("I want to die", "es").crisis


def test_many_messages_run_without_trouble() -> None:
    """Speed sanity without a timed assertion: thousands of messages, no pathologies."""
    texts = [t for t, _ in CRISIS] + NOT_CRISIS
    for _ in range(50):
        for text in texts:
            assess(text)
    assert assess("a" * 20000 + " kill myself").crisis
