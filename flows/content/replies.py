"""Saved replies: words a peer specialist can send with ``/r NAME``, per language.

They live in ``content/texts/<lang>/replies.yaml`` as ``NAME: {title, text}``: the title
labels the specialist's button, the text goes to the parent exactly as written (the bot
never writes it). A parent must never get a saved reply in the wrong language, so a name
present in one language and missing in another is an error, not a fallback to English.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.content.yamlio import Problem

NAMESPACE = "replies"
FIELDS = ("title", "text")


class SavedReply(BaseModel):
    """One saved reply in one language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")  # typed after /r; short for buttons
    title: str = Field(min_length=1, max_length=40)  # a button label
    text: str = Field(min_length=1, max_length=1500)


def _by_name(texts: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """``replies.NAME.FIELD`` keys grouped as ``{NAME: {FIELD: value}}``, in file order."""
    out: dict[str, dict[str, object]] = {}
    prefix = NAMESPACE + "."
    for key, value in texts.items():
        if key.startswith(prefix):
            name, _, field = key[len(prefix):].partition(".")
            out.setdefault(name, {})[field] = getattr(value, "value", value)
    return out


def _line(texts: Mapping[str, object], name: str) -> int:
    """Where a saved reply (or one field, ``NAME.FIELD``) starts: the parser keeps lines."""
    key = f"{NAMESPACE}.{name}"
    lines = [getattr(v, "line", 1) for k, v in texts.items()
             if k == key or k.startswith(key + ".")]
    return min(lines, default=1)


def saved_replies(texts: Mapping[str, Mapping[str, object]], lang: str) -> list[SavedReply]:
    """The valid saved replies in exactly ``lang`` (no fallback), in file order."""
    found = []
    for name, fields in _by_name(texts.get(lang, {})).items():
        try:
            found.append(SavedReply.model_validate({"name": name, **fields}))
        except ValidationError:
            continue  # check_replies reports it; loading refuses content with errors
    return found


def saved_reply(
    texts: Mapping[str, Mapping[str, object]], name: str, lang: str
) -> SavedReply | None:
    return next((r for r in saved_replies(texts, lang) if r.name == name), None)


def check_replies(
    texts: Mapping[str, Mapping[str, object]],
    languages: list[str],
    files: Mapping[tuple[str, str], str],
) -> list[Problem]:
    """Every saved reply valid in every language, with the same names everywhere."""
    problems: list[Problem] = []
    grouped = {lang: _by_name(texts.get(lang, {})) for lang in languages}
    all_names = {n for g in grouped.values() for n in g}
    for lang in languages:
        file = files.get((lang, NAMESPACE), f"content/texts/{lang}/{NAMESPACE}.yaml")
        for name in sorted(all_names):
            fields = grouped[lang].get(name)
            if fields is None:
                have = ", ".join(x for x in languages if name in grouped[x])
                problems.append(Problem(file, 1, f'saved reply "{name}" is missing in {lang} '
                                        f"(it exists in {have}); a parent would get no "
                                        "reply in their language, so add it to this file"))
                continue
            line = _line(texts.get(lang, {}), name)
            try:
                SavedReply.model_validate({"name": name, **fields})
            except ValidationError as exc:
                for err in exc.errors():
                    where = ".".join(str(x) for x in err["loc"]) or name
                    problems.append(Problem(file, line, f'saved reply "{name}" ({where}): '
                                            f"{err['msg']}; each needs a short title and a text"))
            for field, value in fields.items():
                if "{" in str(value) or "}" in str(value):
                    at = _line(texts.get(lang, {}), f"{name}.{field}")
                    problems.append(Problem(file, at, f'saved reply "{name}": no {{placeholders}} '
                                            f"or braces in its {field}; it is sent exactly as "
                                            "written"))
    return problems
