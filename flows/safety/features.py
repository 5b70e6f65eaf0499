"""Turn a message into the sparse features the risk model reads.

Why these features: parents write "im gonna od", "ya no kiero vivir", "kmsss" — the
same meaning in many spellings, two languages and code-switching. Character n-grams
inside each word (``<kil``, ``kill``, ``ill>``) carry meaning across misspellings,
accents dropped or kept, and Spanish inflections; word unigrams and bigrams, and
character n-grams that span two words, carry the phrases ("better off", "sin mi") in
any spelling. (Measured on leave-one-writer-out folds: the spanning n-grams add about
two points of recall at the same false-positive rate; see docs/safety-model.md.) The
text is folded exactly as the rules fold it (lower case, no accents, no apostrophes,
stretched letters shortened), so one message reads the same to both.

Long messages are scored in overlapping windows of a few sentences, not as one bag: a
crisis sentence buried in a paragraph about picky eaters must not be diluted by it,
and the cost stays linear in the length.
"""

from __future__ import annotations

import re

from flows.safety.normalize import normalize, sentences

CHAR_MIN = 3
CHAR_MAX = 5
# Character n-grams that span two words ("e muer", "y off w"): phrases in any spelling.
CROSS_MIN = 4
CROSS_MAX = 6
# A message is screened by the model in windows of about this many characters...
WINDOW_CHARS = 280
# ...and never beyond this many characters in all (Telegram's own limit is 4,096).
MAX_CHARS = 4096

_WORD = re.compile(r"[a-z0-9]+")


_ES = frozenset(
    "que de la el los las y no me mi mis es lo con por para pero ya se te tu un una del al "
    "muy mas esta estoy hijo hija mis nada como cuando porque xq q pq ni yo le les su".split())
_EN = frozenset(
    "the and i to my is it of you that a in me he she his her im dont not this with for "
    "but so just have was be are at on they we all what can".split())


def guess_lang(folded: str) -> str:
    """"es" or "en" by common function words: the thresholds differ by language, and a
    parent's Telegram language says little about the language they write in tonight."""
    es = en = 0
    for w in _WORD.findall(folded):
        if w in _ES:
            es += 1
        elif w in _EN:
            en += 1
    return "es" if es > en else "en"


# Words that say which language a message is written in (folded: no accents), beyond
# the function words above; "no", "me" and "a" are left out: both languages use them.
_ES_CLEAR = (_ES | frozenset(
    "quiero puedo tengo soy hoy siento creo nadie todo todos manana noche vida hacer "
    "ayuda necesito hablar alguien hijos ninos esposo mama papa casa ahora aqui".split())
    ) - {"no", "me", "a"}
_EN_CLEAR = (_EN | frozenset(
    "want cant can't need help talk someone kids son daughter husband tonight here now "
    "know feel think".split())) - {"no", "me", "a"}


def written_lang(text: str | None) -> str | None:
    """The language a message is plainly written in ("es" or "en"), or None when it is
    too short or mixed to tell.

    A parent's Telegram language is the phone's, not theirs: a Spanish-speaking parent
    on an English phone should read the crisis lines, and their welcome, in Spanish.
    "Plainly": at least two telling words, and twice as many as of the other language.
    """
    if not text:
        return None
    es = en = 0
    for w in _WORD.findall(normalize(text[:MAX_CHARS])):
        if w in _ES_CLEAR:
            es += 1
        elif w in _EN_CLEAR:
            en += 1
    if es >= 2 and es > 2 * en:
        return "es"
    if en >= 2 and en > 2 * es:
        return "en"
    return None


def fold(text: str) -> str:
    """The rules' normalization, without text-speak expansion (the model learns that)."""
    return normalize(text[:MAX_CHARS])


def features(folded: str) -> list[str]:
    """Every feature of one already-folded piece of text, in a stable order, no repeats."""
    words = _WORD.findall(folded)
    seen: dict[str, None] = {}
    for i, w in enumerate(words):
        seen["w:" + w] = None
        if i:
            seen["b:" + words[i - 1] + " " + w] = None
        padded = "<" + w + ">"
        n = len(padded)
        for size in range(CHAR_MIN, CHAR_MAX + 1):
            for start in range(n - size + 1):
                seen[padded[start : start + size]] = None
    joined = " ".join(words)
    spaces = [i for i, ch in enumerate(joined) if ch == " "]
    for sp in spaces:  # every gram that has this space strictly inside it
        for size in range(CROSS_MIN, CROSS_MAX + 1):
            for start in range(max(0, sp - size + 2), sp):
                end = start + size
                if end <= len(joined):
                    seen["x:" + joined[start:end]] = None
    return list(seen)


def windows(folded: str) -> list[str]:
    """The pieces of a message that are scored on their own.

    A short message is one window. A longer one is cut into runs of whole sentences of
    about :data:`WINDOW_CHARS`, each overlapping the next by one sentence, so a crisis
    sentence always sits in a window with its neighbours.
    """
    if len(folded) <= WINDOW_CHARS:
        return [folded] if folded else []
    parts: list[str] = []
    for sentence in sentences(folded):
        while len(sentence) > WINDOW_CHARS:  # one huge "sentence" without punctuation
            cut = sentence.rfind(" ", 0, WINDOW_CHARS)
            cut = cut if cut > WINDOW_CHARS // 2 else WINDOW_CHARS
            parts.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        if sentence:
            parts.append(sentence)
    out: list[str] = []
    i = 0
    while i < len(parts):
        chunk = [parts[i]]
        size = len(parts[i])
        j = i + 1
        while j < len(parts) and size + len(parts[j]) <= WINDOW_CHARS:
            chunk.append(parts[j])
            size += len(parts[j]) + 1
            j += 1
        out.append(" ".join(chunk))
        if j >= len(parts):
            break
        i = j - 1 if j - 1 > i else j  # overlap by one sentence
    return out
