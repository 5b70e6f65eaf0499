"""A boundary nudge for peer specialists.

Peer specialists share lived experience; they do not prescribe or diagnose. When an
outgoing message reads like clinical advice ("give him 5mg", "you should stop her
meds", "sounds like he has ADHD"), the dashboard shows a gentle reminder before it is
sent. A peer's own story ("my son has ADHD too") is not advice and is not flagged.
The rules live in ``content/safety/nudge.yaml``.
"""

from __future__ import annotations

from flows.safety import active_rules
from flows.safety.engine import advice_with


def looks_like_clinical_advice(text: str, lang: str | None = None) -> str | None:
    """The id of the rule that matched (for the nudge and the audit log), or None.

    ``lang`` is accepted for symmetry with :func:`flows.safety.assess`; both languages'
    rules always run.
    """
    del lang
    return advice_with(active_rules(), text)
