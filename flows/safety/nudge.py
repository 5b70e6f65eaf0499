"""A boundary nudge for peer specialists.

Peer specialists share lived experience; they do not prescribe or diagnose. When an
outgoing message reads like clinical advice ("give him 5mg", "try melatonin at bedtime",
"he might have ODD, get him evaluated for ADHD"), the bot holds it and asks the
specialist before it is sent. A peer's own story ("my son has ADHD too") is not advice
and is not held. The rules in ``content/safety/nudge.yaml`` and the risk model's
``advice`` head both read the message; either can hold it.
"""

from __future__ import annotations

from flows.safety import active_model, active_rules
from flows.safety.engine import advice_with


def looks_like_clinical_advice(text: str, lang: str | None = None) -> str | None:
    """The id of the rule that matched, ``model.advice`` when only the model did (for the
    nudge and the audit log), or None.

    ``lang`` is accepted for symmetry with :func:`flows.safety.assess`; both languages'
    rules always run.
    """
    del lang
    rule = advice_with(active_rules(), text)
    if rule is not None:
        return rule
    model = active_model()
    if model.score(text).advice >= model.thresholds.advice:
        return "model.advice"
    return None
