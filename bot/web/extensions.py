"""Optional parts of the web app (dashboard, metrics) registered at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app.runtime import WebExtender


def default_extenders() -> list[WebExtender]:
    """The web features a production line serves besides the webhook and health checks."""
    from bot.web.dashboard import add_dashboard
    from bot.web.metrics import add_metrics

    return [add_metrics, add_dashboard]
