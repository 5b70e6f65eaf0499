"""Settings from ``PARENTLINE_*`` environment variables (and an optional ``.env``).

One typed object, read once at start. ``parentline config check`` names every
``PARENTLINE_`` variable that is not a setting (a typo would otherwise be silently ignored)
and explains each bad value in one sentence, as ``parentline run`` does before it starts,
rather than at 3 a.m. in the middle of a conversation.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONTENT_DIR = REPO_ROOT / "content"
DEFAULT_DATA_DIR = REPO_ROOT / "var"


class Settings(BaseSettings):
    """Everything an operator can set. Names match the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="PARENTLINE_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        env_ignore_empty=True,
    )

    telegram_token: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'parentline.db'}"
    content_dir: Path = DEFAULT_CONTENT_DIR
    staff_chat_id: int | None = None
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_url: str = ""  # where people reach the web server (dashboard links); default host:port
    # /metrics and /readyz: on this separate address (loopback by default: a queue length and
    # "0 specialists on duty" tell an outsider when the line is unstaffed), and on the public
    # port only for requests with "Authorization: Bearer <metrics_token>" when that is set.
    ops_host: str = "127.0.0.1"
    ops_port: int = Field(default=8081, ge=0, le=65535)  # 0: any free port (tests)
    metrics_token: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    # Polling deletes a webhook set for the same bot only when told (`run --take-over-webhook`):
    # a stray process with the production token must not steal the line's updates.
    take_over_webhook: bool = False
    # The secret for signing buttons and dashboard cookies: required to run the line (never
    # derived from the bot token, which more people hold); the demo makes a fresh one.
    secret_key: str = ""

    retention_days: int = Field(default=30, ge=1)
    resource_max_age_days: int = Field(default=365, ge=1)
    assignment_mode: Literal["pull", "push"] = "pull"
    specialist_nudge: bool = True
    media_relay: bool = True
    default_max_active: int = Field(default=3, ge=1)
    shift_reminder_hours: float = Field(default=4.0, gt=0)
    idle_reminder_minutes: float = Field(default=45.0, gt=0)
    parent_quiet_minutes: float = Field(default=20.0, gt=0)
    queue_stale_minutes: float = Field(default=30.0, gt=0)
    # Nobody waits unseen: a specialist who hasn't answered their parent for this long is
    # nudged; this much later the conversation goes back to the front of the queue.
    specialist_nudge_minutes: float = Field(default=5.0, gt=0)
    specialist_requeue_minutes: float = Field(default=10.0, gt=0)
    # Push mode: an offer nobody took in this time moves on to the next fitting specialist.
    offer_expire_minutes: float = Field(default=3.0, gt=0)
    demo: bool = False

    # Throughput knobs; defaults follow Telegram's published limits.
    rate_global_per_second: float = 30.0
    rate_chat_per_second: float = 1.0
    rate_chat_burst: int = 3
    rate_group_per_minute: int = 20
    workers: int = Field(default=8, ge=1)
    webhook_holdback_ms: int = Field(default=150, ge=0)
    # Under load, gather updates this long between polls (fewer round trips and commits).
    poll_gather_ms: int = Field(default=10, ge=0, le=1000)
    # uvloop's event loop where it is installed (Linux and macOS); false for asyncio's own.
    uvloop: bool = True
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _demo_secret(self) -> Settings:
        if self.demo and not self.secret_key:
            self.secret_key = secrets.token_urlsafe(32)  # one per demo process
        return self

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)

    @property
    def base_public_url(self) -> str:
        return (self.public_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @property
    def secret(self) -> bytes:
        """Key for callback signatures and cookies (stable across restarts and replicas).

        Raises :class:`SettingsError` when ``PARENTLINE_SECRET_KEY`` is not set: a key
        derived from the bot token would let whoever holds the token forge a dashboard
        cookie for any staff id.
        """
        problem = secret_key_problem(self)
        if problem is not None:
            raise SettingsError([problem])
        return hashlib.sha256(self.secret_key.encode()).digest()

    @property
    def bot_base_url(self) -> str:
        """What python-telegram-bot appends the token to: ``{root}/bot``."""
        return f"{self.telegram_api_url}/bot"


MISSING_TOKEN_HELP = """\
parentline needs a Telegram bot token to talk to Telegram.

  1. In Telegram, open a chat with @BotFather and send /newbot.
  2. Pick a name and a username; BotFather replies with a token like 123456:ABC-DEF...
  3. Run:  PARENTLINE_TELEGRAM_TOKEN=<that token> parentline run

To try the line right now without any token, run:  parentline demo
"""


MAKE_SECRET_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
MIN_SECRET_KEY_CHARS = 32  # config check suggests at least this; run refuses only none


def secret_key_problem(settings: Settings) -> str | None:
    """Why the line cannot run with this ``PARENTLINE_SECRET_KEY``, or ``None``."""
    if not settings.secret_key:
        return ("PARENTLINE_SECRET_KEY is not set; the line signs buttons and dashboard "
                f"cookies with it. Make one with:  {MAKE_SECRET_KEY}  and keep it secret "
                "(every replica needs the same one).")
    if settings.telegram_token and settings.secret_key == settings.telegram_token:
        return ("PARENTLINE_SECRET_KEY must not be the bot token; make a key of its own "
                f"with:  {MAKE_SECRET_KEY}")
    return None


OFFICIAL_API = "https://api.telegram.org"
WEBHOOK_PORTS = (443, 80, 88, 8443)
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def webhook_problem(settings: Settings) -> str | None:
    """Why Telegram would refuse this webhook, in one sentence, or ``None``.

    The same rules the Bot API server applies to setWebhook (telegram-bot-api,
    Client.cpp ``do_set_webhook`` and WebhookActor.cpp): a secret of 1-256 characters
    from A-Z a-z 0-9 _ -, and, on Telegram's own server, an https URL on port 443, 80,
    88 or 8443 (a self-hosted ``--local`` server also takes http and other ports).
    Checked at start-up, so a bad value stops the line instead of being retried forever.
    """
    if not settings.webhook_url:
        return None
    secret = settings.webhook_secret
    if secret and not _WEBHOOK_SECRET.match(secret):
        return ("PARENTLINE_WEBHOOK_SECRET must be 1-256 characters from A-Z a-z 0-9 _ - "
                "(Telegram refuses any other secret token).")
    if settings.telegram_api_url.rstrip("/") != OFFICIAL_API:
        return None
    url = urlsplit(settings.webhook_url)
    if url.scheme != "https" or not url.hostname:
        return "PARENTLINE_WEBHOOK_URL must be an https:// URL (Telegram refuses http)."
    try:
        port = url.port or 443
    except ValueError:
        port = -1
    if port not in WEBHOOK_PORTS:
        return ("PARENTLINE_WEBHOOK_URL must use port 443, 80, 88 or 8443 "
                "(Telegram delivers webhooks to no other port).")
    return None


def secret_key_notes(settings: Settings) -> list[str]:
    """What ``config check`` says about the key: the problem, or advice on a short one."""
    problem = secret_key_problem(settings)
    if problem is not None:
        return [problem + " `parentline run` refuses to start without it "
                "(`parentline demo` makes its own)."]
    if len(settings.secret_key) < MIN_SECRET_KEY_CHARS:
        return [f"PARENTLINE_SECRET_KEY has {len(settings.secret_key)} characters; use at "
                f"least {MIN_SECRET_KEY_CHARS} random ones:  {MAKE_SECRET_KEY}"]
    return []


# --- checking what an operator set ------------------------------------------------------------

PREFIX = "PARENTLINE_"
# Read by the scripts, docker-compose.yml and the tests, never by the line itself.
TOOLING_VARIABLES = frozenset({
    "PARENTLINE_VENV", "PARENTLINE_HOST_PORT", "PARENTLINE_TEST_POSTGRES_URL",
    "PARENTLINE_TEST_CONTENT", "PARENTLINE_SCREENSHOTS", "PARENTLINE_DURABILITY_SECONDS",
    "PARENTLINE_REPORT_DIR",
})


class SettingsError(Exception):
    """Settings that cannot be used; ``problems`` holds one sentence for each bad value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def setting_names() -> list[str]:
    """Every variable the line reads, e.g. ``PARENTLINE_WEB_PORT``."""
    return [PREFIX + name.upper() for name in Settings.model_fields]


def load_settings() -> Settings:
    """:class:`Settings` from the environment and ``.env``; a bad value raises
    :class:`SettingsError` with one sentence per problem rather than pydantic's report."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError([_explain(err) for err in exc.errors()]) from None


def unknown_variables(environ: Mapping[str, str], env_file: Path | None = Path(".env")
                      ) -> list[str]:
    """One sentence for each ``PARENTLINE_`` variable that is set (in ``environ`` or
    ``env_file``) but is not a setting, so the line would silently ignore it."""
    known = set(setting_names())
    found: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        for name in dotenv_values(env_file):
            found.setdefault(name.upper(), f"{env_file}")
    for name in environ:
        found[name.upper()] = "the environment"
    out = []
    for name, where in sorted(found.items()):
        if not name.startswith(PREFIX) or name in known or name in TOOLING_VARIABLES:
            continue
        close = difflib.get_close_matches(name.removeprefix(PREFIX),
                                          [k.removeprefix(PREFIX) for k in known], n=1,
                                          cutoff=0.75)
        hint = (f"; did you mean {PREFIX}{close[0]}?" if close
                else " (the README's configuration table lists the settings).")
        out.append(f"{name} (in {where}) is not a setting and is ignored{hint}")
    return out


def _explain(err: Mapping[str, Any]) -> str:
    """One sentence for one pydantic error, naming the variable and what it expects."""
    loc = err.get("loc") or ("?",)
    name = PREFIX + str(loc[0]).upper()
    secret = "TOKEN" in name or "SECRET" in name
    shown = "(hidden)" if secret else f'"{err.get("input")}"'
    ctx = err.get("ctx") or {}
    problem = {
        "int_parsing": "is not a whole number",
        "float_parsing": "is not a number",
        "bool_parsing": "is neither true nor false",
        "literal_error": f"must be {ctx.get('expected', 'one of the listed values')}",
        "greater_than_equal": f"must be at least {ctx.get('ge')}",
        "greater_than": f"must be more than {ctx.get('gt')}",
        "less_than_equal": f"must be at most {ctx.get('le')}",
        "less_than": f"must be less than {ctx.get('lt')}",
    }.get(str(err.get("type", "")))
    if problem is None:
        problem = "is not valid (" + str(err.get("msg", "")).rstrip(".").lower() + ")"
    return f"{name}={shown} {problem}."
