"""Crisis screening and the clinical/legal boundary.

Every parent message goes through :func:`assess` before anything else. It is pure (no
I/O after the first load, no network), fast, and its knowledge lives in
``content/safety/*.yaml`` so coordinators can read and extend it. The returned
:class:`Assessment` carries rule ids as evidence, never message text, so it can be
written to the audit log.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flows.content.yamlio import ContentError
from flows.safety.engine import Assessment, assess_with
from flows.safety.rules import RuleSet, load_rules

__all__ = ["Assessment", "RuleSet", "active_rules", "assess", "default_content_dir", "use_rules"]

_lock = threading.Lock()
_active: RuleSet | None = None


def default_content_dir() -> Path:
    """The repository's ``content/`` directory (where the shipped rules live)."""
    return Path(__file__).resolve().parents[2] / "content"


def use_rules(ruleset: RuleSet) -> None:
    """Switch the active rules (hot reload). The swap is a single assignment: a message
    being screened right now finishes with the rules it started with."""
    global _active
    _active = ruleset


def active_rules() -> RuleSet:
    """The rules in use, loading the shipped ones on first use.

    Raises :class:`ContentError` if the shipped rules are broken: starting a support
    line without crisis screening must fail loudly, not quietly screen nothing.
    """
    current = _active
    if current is not None:
        return current
    with _lock:
        if _active is None:
            ruleset, problems = load_rules(default_content_dir())
            if ruleset is None:
                raise ContentError(problems)
            use_rules(ruleset)
        assert _active is not None
        return _active


def assess(text: str, lang: str | None = None) -> Assessment:
    """Screen one message for a crisis and for clinical or legal questions."""
    return assess_with(active_rules(), text, lang)
