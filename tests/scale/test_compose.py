"""The compose file says what the docs say, and the docs say what the compose file does.

No Docker engine runs in CI, so the file is checked by parsing: the services and their
health checks, the volume, the start order, and every ``PARENTLINE_*`` variable — which
must be a real setting, be in the README's configuration table and in
``docs/production.md``'s table for the ``bot`` service (and nothing more there).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from core.config import Settings

REPO = Path(__file__).resolve().parents[2]
VAR = re.compile(r"PARENTLINE_[A-Z_]+")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = YAML(typ="safe").load((REPO / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "- NAME=value" form
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _table_vars(markdown: str, heading: str | None = None) -> set[str]:
    """Variables named in the first column of the Markdown table(s) after ``heading``."""
    text = markdown
    if heading is not None:
        start = markdown.index(heading)
        text = markdown[start:]
        # up to the next table-free paragraph after the first table
        table = re.search(r"(?:^\|.*\n)+", text, flags=re.M)
        assert table, f"no table after {heading!r}"
        text = table.group(0)
    found: set[str] = set()
    for line in text.splitlines():
        if line.startswith("|"):
            first = line.split("|")[1]
            found |= set(VAR.findall(first))
    return found


def test_services_health_checks_and_volume(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"bot", "postgres", "migrate"} <= set(services)

    pg = services["postgres"]
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    volume = pg["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "postgres data must live in a named volume"

    bot = services["bot"]
    check = " ".join(bot["healthcheck"]["test"])
    assert "/healthz" in check and "urllib" in check and "curl" not in check
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["parentline", "db", "upgrade"]
    assert any(str(v).endswith(":/app/content:ro") or str(v).endswith(":/app/content")
               for v in bot["volumes"]), "content must be mounted for coordinators"


def test_bot_environment_points_at_the_database_and_takes_the_token(
    compose: dict[str, Any],
) -> None:
    env = _env(compose["services"]["bot"])
    assert env["PARENTLINE_TELEGRAM_TOKEN"].startswith("${PARENTLINE_TELEGRAM_TOKEN")
    assert "@postgres:5432/" in env["PARENTLINE_DATABASE_URL"]
    assert env["PARENTLINE_DATABASE_URL"].startswith("postgresql://")
    assert env["PARENTLINE_CONTENT_DIR"] == "/app/content"
    for optional in ("PARENTLINE_WEBHOOK_URL", "PARENTLINE_WEBHOOK_SECRET"):
        assert env[optional].startswith("${" + optional + ":-"), optional
    # required: `parentline run` refuses to start without a key of its own
    assert env["PARENTLINE_SECRET_KEY"].startswith("${PARENTLINE_SECRET_KEY:?")
    migrate = _env(compose["services"]["migrate"])
    assert migrate["PARENTLINE_DATABASE_URL"] == env["PARENTLINE_DATABASE_URL"]


def test_compose_variables_are_settings_and_documented_both_ways(
    compose: dict[str, Any],
) -> None:
    env = {k for k in _env(compose["services"]["bot"]) if k.startswith("PARENTLINE_")}
    settings = {"PARENTLINE_" + name.upper() for name in Settings.model_fields}
    assert env <= settings, f"not settings (typo?): {sorted(env - settings)}"

    readme = _table_vars((REPO / "README.md").read_text())
    assert env <= readme, f"missing from the README table: {sorted(env - readme)}"

    production = (REPO / "docs" / "production.md").read_text()
    documented = _table_vars(production, "Environment of the `bot` service")
    assert env == documented, (
        f"compose sets but docs/production.md does not list: {sorted(env - documented)}; "
        f"docs list but compose does not set: {sorted(documented - env)}")
    for service in compose["services"]:
        assert f"`{service}`" in production, f"docs/production.md never names {service}"


def test_dockerfile_installs_the_package_and_checks_health_without_curl() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "pip install ." in dockerfile
    health = next(line for line in dockerfile.splitlines()
                  if line.strip().startswith('CMD ["python"'))
    assert "/healthz" in health and "urllib" in health and "curl" not in health
    assert re.search(r"^USER (?!root)", dockerfile, flags=re.M), "run as a non-root user"
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".git" in ignored and ".venv" in ignored and ".env" in ignored
