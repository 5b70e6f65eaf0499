"""Open Referral (HSDS 2.0 CSV, 3.0 JSON) import into reviewable resource YAML.

``read`` turns a data package into services, ``convert`` turns each into one of our
resource entries (or says why not), ``merge`` writes them beside coordinators' edits.
:func:`import_package` is the whole pipeline, as ``parentline resources import`` runs it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flows.content.hours import zone
from flows.content.hsds.convert import Converted, convert, map_term, slug
from flows.content.hsds.merge import Change, Report, merge
from flows.content.hsds.read import HsdsError, Service, read_package
from flows.content.models import TAXONOMY_FILE, TaxonomyMap
from flows.content.yamlio import ContentError, display_path, load_yaml, plain


def load_taxonomy(content: Path) -> dict[str, list[str]]:
    """The coordinators' map (``resources/hsds-taxonomy.yaml``); empty if there is none."""
    path = content / "resources" / TAXONOMY_FILE
    if not path.exists():
        return {}
    try:
        doc = load_yaml(path, display_path(path, content))
    except ContentError as exc:
        raise HsdsError(f"{exc.problems[0]}") from None
    try:
        return dict(TaxonomyMap.model_validate(plain(doc) or {}).terms)
    except ValueError:
        raise HsdsError(
            f"{display_path(path, content)} is not a map of terms to categories; "
            "run `parentline content check` to see where."
        ) from None


def import_package(
    package: Path,
    content: Path,
    *,
    source: str | None = None,
    timezone: str,
    language: str = "en",
    today: date | None = None,
    dry_run: bool = False,
) -> Report:
    """Import ``package`` into ``content/resources/imported-<source>.yaml``."""
    try:
        zone(timezone)
    except ValueError as exc:
        raise HsdsError(f"--timezone: {exc}.") from None
    name = slug(source or Path(package).stem)
    version, services = read_package(Path(package))
    seen: set[str] = set()
    for svc in services:
        if svc.id in seen:
            raise HsdsError(f"service id {svc.id!r} appears twice in the package.")
        seen.add(svc.id)
    taxonomy = load_taxonomy(content)
    day = today or date.today()
    converted = [
        convert(svc, source=name, version=version, timezone=timezone, taxonomy=taxonomy,
                language=language, today=day)
        for svc in services
    ]
    out = content / "resources" / f"imported-{name}.yaml"
    return merge(converted, out, shown_as=display_path(out, content), dry_run=dry_run)


__all__ = [
    "Change",
    "Converted",
    "HsdsError",
    "Report",
    "Service",
    "convert",
    "import_package",
    "load_taxonomy",
    "map_term",
    "merge",
    "read_package",
    "slug",
]
