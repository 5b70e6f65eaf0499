"""The two routing tables cover what they route: every effect a flow can return has a
handler, and every staff command the help text lists is in the staff router."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from bot.app.effect_handlers import EFFECT_HANDLERS
from bot.app.staff_router import STAFF_COMMANDS
from flows.content import load_content
from flows.effects import Effect


def test_every_effect_type_has_a_handler() -> None:
    assert set(EFFECT_HANDLERS) == set(get_args(Effect))


def test_every_staff_command_in_the_help_is_routed() -> None:
    content = load_content(Path(__file__).parents[1] / "content")
    for lang in ("en", "es"):
        shown = " ".join(content.text(k, lang) for k in ("staff.help", "staff.help_coordinator"))
        named = set(re.findall(r"/([a-z]+)", shown))
        assert named, lang
        assert named <= set(STAFF_COMMANDS), named - set(STAFF_COMMANDS)
