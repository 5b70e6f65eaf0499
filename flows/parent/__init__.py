"""The parent's conversation flow: pure, built on one shared ``transitions`` rulebook."""

from flows.parent.flow import FlowResult, ParentSnapshot, handle, language_guess
from flows.parent.machine import STATES, TRANSITIONS

__all__ = ["STATES", "TRANSITIONS", "FlowResult", "ParentSnapshot", "handle", "language_guess"]
