"""Content models, loading with line numbers, validation and hot reload.

Every word the bot says and every helpline it offers lives in ``content/``; this
package turns those files into a :class:`Content` and tells a coordinator exactly
which line to fix when something is wrong.
"""

from flows.content.check import check_content, phone_ok
from flows.content.content import Content, normalize
from flows.content.hours import Schedule, us_federal_holidays
from flows.content.loader import load_content
from flows.content.models import (
    Category,
    Contact,
    Experience,
    Hours,
    OpeningHours,
    Region,
    Resource,
    RightsInfo,
    Serves,
    Topic,
)
from flows.content.parse import SAFETY_NAMESPACES
from flows.content.store import ContentStore
from flows.content.yamlio import ContentError, Problem

__all__ = [
    "SAFETY_NAMESPACES",
    "Category",
    "Contact",
    "Content",
    "ContentError",
    "ContentStore",
    "Experience",
    "Hours",
    "OpeningHours",
    "Problem",
    "Region",
    "Resource",
    "RightsInfo",
    "Schedule",
    "Serves",
    "Topic",
    "check_content",
    "load_content",
    "normalize",
    "phone_ok",
    "us_federal_holidays",
]
