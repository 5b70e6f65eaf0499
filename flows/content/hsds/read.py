"""Read an Open Referral HSDS data package into one shape, whatever its version.

HSDS 3.0 ships JSON (a service with its phones, schedules, areas and locations nested
inside it); HSDS 2.0 ships one CSV table per kind of thing, joined by ids. Both are read
into the same pydantic models below, which are our own trimmed version of the spec's
schema (``schema/*.json`` in github.com/openreferral/specification): only the fields the
importer uses, unknown fields ignored. We do not copy the spec's JSON Schema files into
the repo because they are CC BY-SA 4.0 and this project is Apache-2.0.

Anything a coordinator cannot use (a missing file, bad JSON, a service without a name)
raises :class:`HsdsError` with one sentence that names the file and the row.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class HsdsError(Exception):
    """The package cannot be read; ``str(exc)`` is one sentence for the coordinator."""


class _Hsds(BaseModel):
    # The spec's numbers (extension, timezone) are text to us; extra fields are fine.
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class Phone(_Hsds):
    number: str
    extension: str | None = None
    type: str | None = None


class Slot(_Hsds):
    """One schedule entry (an RFC 5545 rule, reduced to what a weekly timetable needs)."""

    freq: str | None = None
    interval: str | None = None
    byday: str | None = None
    opens_at: str | None = None
    closes_at: str | None = None
    valid_to: str | None = None
    timezone: str | None = None  # a UTC offset in hours (HSDS has no zone names)


class Area(_Hsds):
    name: str | None = None


class Language(_Hsds):
    name: str | None = None
    code: str | None = None


class Term(_Hsds):
    code: str | None = None
    name: str | None = None


class Attribute(_Hsds):
    taxonomy_term: Term | None = None


class Address(_Hsds):
    address_1: str | None = None
    city: str | None = None
    state_province: str | None = None
    postal_code: str | None = None
    address_type: str | None = None


class Location(_Hsds):
    addresses: list[Address] = Field(default_factory=list)
    phones: list[Phone] = Field(default_factory=list)
    schedules: list[Slot] = Field(default_factory=list)
    languages: list[Language] = Field(default_factory=list)


class ServiceAtLocation(_Hsds):
    location: Location | None = None
    phones: list[Phone] = Field(default_factory=list)
    schedules: list[Slot] = Field(default_factory=list)


class Organization(_Hsds):
    name: str | None = None
    description: str | None = None
    url: str | None = None
    email: str | None = None


class Service(_Hsds):
    """An HSDS 3.0 service as the importer sees it (HSDS 2.0 rows are joined into it)."""

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    status: str | None = None
    description: str | None = None
    url: str | None = None
    email: str | None = None
    fees_description: str | None = None
    fees: str | None = None
    assured_date: str | None = None
    last_modified: str | None = None
    organization: Organization | None = None
    phones: list[Phone] = Field(default_factory=list)
    schedules: list[Slot] = Field(default_factory=list)
    service_areas: list[Area] = Field(default_factory=list)
    languages: list[Language] = Field(default_factory=list)
    attributes: list[Attribute] = Field(default_factory=list)
    service_at_locations: list[ServiceAtLocation] = Field(default_factory=list)

    @property
    def locations(self) -> list[Location]:
        return [s.location for s in self.service_at_locations if s.location is not None]

    @property
    def terms(self) -> list[Term]:
        return [a.taxonomy_term for a in self.attributes if a.taxonomy_term is not None]


def _sentence(err: ValidationError, where: str) -> str:
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(top)"
    if first["type"] == "missing":
        return f"{where}: '{field}' is missing."
    return f"{where}: '{field}': {first['msg']}."


def _service(data: Any, where: str) -> Service:
    if not isinstance(data, dict):
        raise HsdsError(f"{where}: expected a service object (with id and name).")
    try:
        return Service.model_validate(data)
    except ValidationError as exc:
        raise HsdsError(_sentence(exc, where)) from None


# --- HSDS 3.0: JSON --------------------------------------------------------------------------


def _read_json(path: Path) -> list[Service]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise HsdsError(f"{path.name} is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise HsdsError(f"{path.name} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
    # A list of services, an API page ({"contents": [...]}), or one service.
    if isinstance(doc, dict) and isinstance(doc.get("contents"), list):
        doc = doc["contents"]
    items = doc if isinstance(doc, list) else [doc]
    return [_service(item, f"{path.name}, service {i + 1}") for i, item in enumerate(items)]


# --- HSDS 2.0: CSV tables --------------------------------------------------------------------


def _table(folder: Path, name: str, required: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Rows of ``name`` (empty cells dropped); a missing optional table is no rows."""
    path = folder / name
    if not path.exists():
        if required:
            raise HsdsError(f"{folder}: {name} is missing; an HSDS 2.0 package needs it.")
        return []
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            for col in required:
                if col not in header:
                    raise HsdsError(f"{name} has no '{col}' column (its first line).")
            rows = []
            for n, row in enumerate(reader, start=2):
                if None in row:
                    raise HsdsError(f"{name} line {n} has more cells than the header.")
                clean = {k.strip(): v.strip() for k, v in row.items() if v and v.strip()}
                for col in required:
                    if col not in clean:
                        raise HsdsError(f"{name} line {n}: '{col}' is empty.")
                rows.append(clean)
            return rows
    except UnicodeDecodeError:
        raise HsdsError(f"{name} is not UTF-8 text.") from None
    except csv.Error as exc:
        raise HsdsError(f"{name} is not valid CSV ({exc}).") from None


def _by(rows: list[dict[str, str]], key: str) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if key in row:
            out[row[key]].append(row)
    return out


def _read_csv(folder: Path) -> list[Service]:
    services = _table(folder, "services.csv", ("id", "name"))
    orgs = {r["id"]: r for r in _table(folder, "organizations.csv", ("id",))}
    phones = _table(folder, "phones.csv", ("number",))
    schedules = _table(folder, "schedules.csv")
    sal = _by(_table(folder, "services_at_location.csv", ("service_id", "location_id")),
              "service_id")
    addresses = _by(_table(folder, "physical_addresses.csv", ("location_id",)), "location_id")
    terms = {r["id"]: r for r in _table(folder, "taxonomy_terms.csv", ("id",))}
    attrs = _by(_table(folder, "service_attributes.csv", ("service_id", "taxonomy_term_id")),
                "service_id")
    areas = _by(_table(folder, "service_areas.csv", ("service_id",)), "service_id")
    langs = _table(folder, "languages.csv")
    phones_s, phones_l = _by(phones, "service_id"), _by(phones, "location_id")
    sched_s, sched_l = _by(schedules, "service_id"), _by(schedules, "location_id")
    langs_s, langs_l = _by(langs, "service_id"), _by(langs, "location_id")

    out = []
    for n, row in enumerate(services, start=2):
        sid = row["id"]
        locations = [
            {
                "location": {
                    "addresses": [{**a, "address_type": "physical"}
                                  for a in addresses.get(link["location_id"], [])],
                    "phones": phones_l.get(link["location_id"], []),
                    "schedules": sched_l.get(link["location_id"], []),
                    "languages": [{"name": lg.get("language")}
                                  for lg in langs_l.get(link["location_id"], [])],
                }
            }
            for link in sal.get(sid, [])
        ]
        data: dict[str, Any] = {
            **row,
            "organization": orgs.get(row.get("organization_id", "")),
            "phones": phones_s.get(sid, []),
            "schedules": sched_s.get(sid, []),
            "service_areas": [{"name": a.get("service_area")} for a in areas.get(sid, [])],
            "languages": [{"name": lg.get("language")} for lg in langs_s.get(sid, [])],
            "attributes": [
                {"taxonomy_term": {"code": a["taxonomy_term_id"],
                                   "name": terms.get(a["taxonomy_term_id"], {}).get("term")}}
                for a in attrs.get(sid, [])
            ],
            "service_at_locations": locations,
        }
        out.append(_service(data, f"services.csv line {n}"))
    return out


def read_package(path: Path) -> tuple[str, list[Service]]:
    """``("3.0" | "2.0", services)`` from a JSON file, or a folder of CSV tables or JSON."""
    path = Path(path)
    if not path.exists():
        raise HsdsError(f"{path}: no such file or folder.")
    if path.is_file():
        if path.suffix.lower() != ".json":
            raise HsdsError(
                f"{path.name}: give an HSDS 3.0 .json file or the folder of an HSDS 2.0 package."
            )
        return "3.0", _read_json(path)
    if (path / "services.csv").exists():
        return "2.0", _read_csv(path)
    files = sorted(p for p in path.glob("*.json") if p.name != "datapackage.json")
    if files:
        return "3.0", [s for f in files for s in _read_json(f)]
    raise HsdsError(f"{path}: no services.csv (HSDS 2.0) and no .json file (HSDS 3.0) in it.")
