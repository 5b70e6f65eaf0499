"""Text normalization shared by crisis screening, the clinical boundary and the nudge.

Parents write on phones, at 3 a.m., in two languages: "im gonna od", "ya no kiero
vivir", "sooo tired". Rules are written once against a *normalized* form so that a
coordinator never has to list every spelling: lower case, no accents ("él" and "el"
match the same rule), no apostrophes ("I'm", "Im" and "im" all become "im"), long
letter runs shortened, text-speak expanded. Punctuation that separates sentences and
clauses is kept, because scope (negation, past history) is decided per clause.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
# Anything that is not a letter, digit, whitespace or a sentence/clause mark becomes a space.
_OTHER = re.compile(r"[^a-z0-9\s.,!?;:\n]")
_RUN3 = re.compile(r"([a-z])\1{2,}")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE = re.compile(
    r"[.!?;:\n]+|,|(?<![a-z0-9])(?:but|pero|though|although|aunque|however|sin embargo|"
    r"except|excepto)(?![a-z0-9])"
)


def strip_accents(text: str) -> str:
    """Drop combining marks: "sí" -> "si", "años" -> "anos" (rules are written the same way)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def build_textspeak(mapping: Mapping[str, str]) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """One regex for all text-speak keys (longest first, whole words only)."""
    if not mapping:
        return None
    keys = sorted(mapping, key=len, reverse=True)
    alternation = "|".join(re.escape(k) for k in keys)
    return re.compile(rf"(?<![a-z0-9])(?:{alternation})(?![a-z0-9])"), dict(mapping)


def _base(text: str) -> str:
    t = strip_accents(text.lower())
    t = _APOSTROPHES.sub("", t)
    t = _OTHER.sub(" ", t)
    return t


def _finish(text: str, textspeak: tuple[re.Pattern[str], dict[str, str]] | None) -> str:
    if textspeak is not None:
        regex, table = textspeak
        text = regex.sub(lambda m: table[m.group(0)], text)
    text = _SPACES.sub(" ", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def normalize_variants(
    text: str, textspeak: tuple[re.Pattern[str], dict[str, str]] | None = None
) -> tuple[str, ...]:
    """The normalized text, plus a second reading when letters were stretched.

    "killll myself" must read as "kill myself" (runs shortened to two letters) while
    "i want to diiie" must read as "die" (runs shortened to one); we cannot know which,
    so both readings are screened. Most messages have no stretched letters and get one.
    """
    base = _base(text)
    if not _RUN3.search(base):
        return (_finish(base, textspeak),)
    two = _finish(_RUN3.sub(r"\1\1", base), textspeak)
    one = _finish(_RUN3.sub(r"\1", base), textspeak)
    return (two,) if two == one else (two, one)


def normalize(text: str, textspeak: tuple[re.Pattern[str], dict[str, str]] | None = None) -> str:
    """The first normalized reading (see :func:`normalize_variants`)."""
    return normalize_variants(text, textspeak)[0]


def normalize_pattern(pattern: str) -> str:
    """Let coordinators write rules as people write ("I'm", "él"): same folding as messages.

    Upper-case letters are lowered except after a backslash, so ``\\d`` and ``\\S`` keep
    their regex meaning.
    """
    p = strip_accents(pattern)
    p = _APOSTROPHES.sub("", p)
    return re.sub(r"(?<!\\)[A-Z]", lambda m: m.group(0).lower(), p)


def sentences(text: str) -> list[str]:
    """Split normalized text into sentences, keeping the final mark ("?" matters)."""
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def clauses(sentence: str) -> list[str]:
    """Split a sentence into clauses: scope of negation and past history ends here.

    "I used to cut, and last night I did it again" must not let "used to" cancel the
    second half, so commas and "but"/"pero" start a new clause.
    """
    return [c.strip() for c in _CLAUSE.split(sentence) if c.strip()]
