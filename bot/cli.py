"""The ``parentline`` command: run the line, try the demo, check config and content, manage the
roster."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from core.config import (
    MISSING_TOKEN_HELP,
    Settings,
    SettingsError,
    load_settings,
    secret_key_notes,
    secret_key_problem,
    unknown_variables,
    webhook_problem,
)


def _settings() -> Settings:
    """The settings; when a value cannot be used, one sentence per problem and exit 2."""
    try:
        return load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print("Fix the setting(s) above; `parentline config check` lists every problem.",
              file=sys.stderr)
        raise SystemExit(2) from None


def setup_logging(level: str = "INFO") -> None:
    """Logs carry ids, counts and categories — never message text or names."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "aiohttp.access", "telegram.ext", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# --- run ------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings()
    if getattr(args, "take_over_webhook", False):
        settings = settings.model_copy(update={"take_over_webhook": True})
    if not settings.telegram_token:
        print(MISSING_TOKEN_HELP, file=sys.stderr)
        return 2
    if (problem := secret_key_problem(settings) or webhook_problem(settings)) is not None:
        print(problem, file=sys.stderr)
        return 2
    for unknown in unknown_variables(os.environ):
        print(f"warning: {unknown}", file=sys.stderr)
    setup_logging(settings.log_level)
    from bot.app.runtime import LineRuntime
    from bot.web.extensions import default_extenders

    async def main() -> None:
        runtime = LineRuntime(settings, web_extenders=default_extenders())
        await runtime.run_forever()

    try:
        run_loop(main(), settings.uvloop)
    except SettingsError as exc:  # e.g. Telegram refused setWebhook: one sentence, exit 2
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    return 0


def run_loop(coro: Coroutine[Any, Any, None], use_uvloop: bool) -> None:
    """The line's event loop: uvloop when installed and wanted (a faster loop and faster
    sockets cut the CPU per message, docs/performance.md), else asyncio's."""
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.run(coro)
            return
    asyncio.run(coro)


def cmd_demo(args: argparse.Namespace) -> int:
    setup_logging("WARNING")
    from bot.demo.run import run_demo

    return asyncio.run(run_demo(port=args.port, open_browser=False))


# --- config ---------------------------------------------------------------------------------


def cmd_config_check(_args: argparse.Namespace) -> int:
    """Unknown ``PARENTLINE_`` variables and bad values, one sentence each."""
    unknown = unknown_variables(os.environ)
    try:
        settings: Settings | None = load_settings()
        bad: list[str] = []
    except SettingsError as exc:
        settings, bad = None, exc.problems
    for line in bad + unknown:
        print(line)
    if bad or unknown:
        print(f"\n{len(bad)} bad value(s), {len(unknown)} unknown variable(s).")
        return 1
    if settings is not None and not settings.telegram_token:
        print("note: PARENTLINE_TELEGRAM_TOKEN is not set; `parentline run` needs it "
              "(`parentline demo` does not).")
    for note in secret_key_notes(settings) if settings is not None else []:
        print(f"note: {note}")
    print("config OK")
    return 0


# --- content ---------------------------------------------------------------------------------


def cmd_content_check(args: argparse.Namespace) -> int:
    from flows.content import check_content

    settings = _settings()
    directory = Path(args.dir) if args.dir else settings.content_dir
    if not directory.is_dir():
        print(f"{directory}: no such content folder", file=sys.stderr)
        return 1
    today = date.fromisoformat(args.today) if args.today else None
    problems = check_content(directory, max_age_days=args.max_age_days
                             or settings.resource_max_age_days, today=today)
    errors = [p for p in problems if p.severity == "error"]
    warnings_ = [p for p in problems if p.severity != "error"]
    for p in errors + warnings_:
        print(p)
    if errors:
        print(f"\n{len(errors)} error(s), {len(warnings_)} warning(s). "
              "Fix the errors above; the running bot keeps serving the last good content.")
        return 1
    print(f"content OK ({len(warnings_)} warning(s)).")
    return 0


def _shown(value: Any, limit: int = 160) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _diff(old: Any, new: Any) -> list[str]:
    """What changed in one field, item by item for lists and key by key for maps."""
    if isinstance(old, list) and isinstance(new, list):
        gone = [f": - {_shown(x)}" for x in old if x not in new]
        came = [f": + {_shown(x)}" for x in new if x not in old]
        return gone + came or [": (order changed)"]
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            line
            for key in dict.fromkeys([*old, *new])
            if old.get(key) != new.get(key)
            for line in (f".{key}{sub}" for sub in _diff(old.get(key), new.get(key)))
        ]
    return [f": {_shown(old)} -> {_shown(new)}"]


def cmd_resources_import(args: argparse.Namespace) -> int:
    """Import an HSDS package and print what changed, as a coordinator reviews it."""
    from flows.content import check_content
    from flows.content.hsds import HsdsError, import_package

    content = Path(args.content) if args.content else _settings().content_dir
    if not (content / "resources").is_dir():
        print(f"{content}: no resources/ folder here; pass --content DIR", file=sys.stderr)
        return 1
    today = date.fromisoformat(args.today) if args.today else None
    try:
        r = import_package(Path(args.path), content, source=args.source,
                           timezone=args.timezone, language=args.language, today=today,
                           dry_run=args.dry_run)
    except HsdsError as exc:
        print(f"Nothing imported: {exc}", file=sys.stderr)
        return 1
    for rid, name in r.added:
        print(f"+ {rid}: added ({name})")
    for c in r.changed:
        for line in _diff(c.old, c.new):
            print(f"~ {c.id}.{c.field}{line}")
    for rid in r.removed:
        print(f"- {rid}: no longer in the source; removed")
    for c in r.conflicts:
        print(f"! {c.id}.{c.field}: CONFLICT, kept your edit {_shown(c.old)}; "
              f"the source now says {_shown(c.new)}")
    for c in r.kept:
        print(f"= {c.id}.{c.field}: kept your edit")
    for rid in r.kept_gone:
        print(f"! {rid}: no longer in the source, but you edited it; kept (delete it if "
              "the service closed)")
    for rid in r.not_readded:
        print(f"= {rid}: you removed it; not added back")
    for sid, why in r.skipped:
        print(f"? service {sid}: skipped, {why}")
    for sid, note in r.notes:
        print(f"? service {sid}: {note}")
    for term, n in sorted(r.unmapped.items()):
        print(f"? taxonomy term {term} ({n} service(s)) is not mapped; add it to "
              "resources/hsds-taxonomy.yaml to give those services a category")
    verb = "would change" if args.dry_run else "wrote"
    print(f"\n{r.file}: {verb} {len(r.added)} added, {len(r.changed)} field(s) changed, "
          f"{len(r.removed)} removed; {len(r.conflicts)} conflict(s), {len(r.kept)} edit(s) "
          f"kept, {len(r.skipped)} skipped.")
    if args.dry_run:
        return 0
    problems = [p for p in check_content(content, today=today) if p.severity == "error"]
    for p in problems:
        print(p)
    if problems:
        print("`parentline content check` fails now; fix the errors above.")
        return 1
    print("content check: OK. Review the file (git diff) before you deploy it.")
    return 0


def cmd_content_show_topic(args: argparse.Namespace) -> int:
    """What a parent with this concern would be offered, in the order they would see it."""
    from flows.content import ContentError, Region, load_content
    from flows.parent.regions import parse_place

    settings = _settings()
    directory = Path(args.dir) if args.dir else settings.content_dir
    try:
        content = load_content(directory, max_age_days=settings.resource_max_age_days)
    except ContentError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    topic = content.topic(args.topic_id)
    if topic is None:
        known = ", ".join(t.id for t in content.topics)
        print(f'no topic "{args.topic_id}" (known: {known})', file=sys.stderr)
        return 1
    lang = args.lang
    region: Region | None = None
    if args.region:
        place = parse_place(args.region)
        if place is None or place.needs_state:
            print(f'could not read the region "{args.region}"; try a ZIP code or "County, ST"',
                  file=sys.stderr)
            return 1
        region = Region(place.zip, place.state, place.county)
    now = datetime.now(UTC)
    found = content.resources_for_topic(topic, region=region, lang=lang, now=now,
                                        demo=args.demo)
    default = content.experience_for_topic(topic.id)
    where = ", ".join(p for p in (region.county, region.state, region.zip) if p) if region \
        else "no region"
    print(f"{topic.id}: {topic.title.get(lang) or topic.title.get('en')} "
          f"(tone {topic.tone}; {lang}; {where})")
    print(f"categories, best fit first: {', '.join(topic.resource_categories) or '-'}")
    print(f"default lived experience: {default.id if default else '-'}")
    print("resources, in the order the parent sees them:")
    if not found:
        print("  (none)")
    for i, r in enumerate(found, 1):
        safety = " [safety line]" if set(r.categories) & content.safety_categories() else ""
        print(f"  {i}. {r.id}{safety}")
        for line in content.render_resource(r, lang, now, short=True).splitlines():
            print(f"     {line}")
    rights = content.rights_for(topic.id, region, lang)
    if rights:
        print("rights information:")
        for info in rights:
            print(f"  - {info.id}: {info.title.get(lang) or info.title.get('en')}")
    return 0


def cmd_flows_diagram(args: argparse.Namespace) -> int:
    from flows.parent.diagram import write_diagrams

    for path in write_diagrams(Path(args.out)):
        print(path)
    return 0


def cmd_safety_eval(args: argparse.Namespace) -> int:
    from flows.safety.evaluate import main as eval_main

    return int(eval_main(args.file, show_misses=args.misses))


def cmd_places_build(args: argparse.Namespace) -> int:
    """Derive the shipped ZIP table from the installed ``zipcodes`` package (after an
    upgrade of it), or with ``--check`` say whether the shipped one is still the same."""
    from flows.parent import regions

    if args.check:
        fresh = regions.table_bytes(regions.rows_from_package())
        same = regions.TABLE.exists() and regions.TABLE.read_bytes() == fresh
        print(f"{regions.TABLE.name}: " + ("up to date" if same else
              "differs from the installed zipcodes package; run `parentline places build`"))
        return 0 if same else 1
    n = regions.build_table()
    print(f"{regions.TABLE}: {n} ZIP codes")
    return 0


def cmd_safety_train(args: argparse.Namespace) -> int:
    from flows.safety.train import MODEL_FILE, train

    safety_dir = (Path(args.content) if args.content else _settings().content_dir) / "safety"
    target = safety_dir / MODEL_FILE
    reuse = None
    if args.check:
        from flows.safety.model import RiskModel

        if not target.exists():
            print(f"{target}: missing; run `parentline safety train`")
            return 1
        reuse = RiskModel.load(target).header
    model, report = train(safety_dir, reuse=reuse,
                          cache=Path(args.cache) if args.cache else None)
    print(f"trained on {report.rows} rows; vocabulary {report.vocab} features; "
          f"folds (one writer each): {', '.join(report.folds)}")
    for key, value in sorted(report.oof.items()):
        print(f"  out of fold {key}: {value:.3f}")
    if args.check:
        same = target.exists() and target.read_bytes() == model
        print(f"{target}: {'identical to a fresh training' if same else 'OUT OF DATE'}")
        return 0 if same else 1
    target.write_bytes(model)
    print(f"wrote {target} ({len(model)} bytes)")
    return 0


# --- roster ---------------------------------------------------------------------------------


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


async def _with_db(fn_name: str, args: argparse.Namespace) -> int:
    from core.storage.db import Database
    from core.storage.migrate import upgrade
    from handoff import roster

    settings = _settings()
    known = roster.content_experience(settings.content_dir)
    db = Database(settings.database_url)
    try:
        await upgrade(db)
        async with db.tx() as s:
            if fn_name == "add":
                try:
                    staff = await roster.add_staff(
                        s, args.telegram_user_id, args.name, args.role,
                        _split(args.languages) or ["en"], args.max_active,
                        _split(args.experience), datetime.now(UTC), known_experience=known,
                    )
                except ValueError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                print(f"added {staff.name} ({staff.role}, {','.join(staff.languages)}, "
                      f"max {staff.max_active})")
            elif fn_name == "experience":
                try:
                    staff = await roster.set_experience(
                        s, args.telegram_user_id, _split(args.tags), known_experience=known)
                except ValueError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                print(f"{staff.name}: experience {','.join(staff.experience) or '-'}")
            elif fn_name == "list":
                rows = await roster.list_staff(s)
                if not rows:
                    print("no staff yet: parentline staff add TELEGRAM_USER_ID --name NAME")
                for st in rows:
                    duty = "on duty" + (" (paused)" if st.paused else "") if st.on_duty else "off"
                    print(f"{st.tg_user_id}\t{st.name}\t{st.role}\t{','.join(st.languages)}\t"
                          f"max {st.max_active}\t{','.join(st.experience) or '-'}\t{duty}")
            elif fn_name == "remove":
                return await _remove_staff(s, args.telegram_user_id)
        return 0
    finally:
        await db.dispose()


async def _remove_staff(session: Any, staff_id: int) -> int:
    """As on the dashboard: open conversations back to the front of the queue, each parent
    told, colleagues alerted, the person told; the running line's sender delivers it."""
    from bot.telegram.outgoing import add_actions
    from core.context import Ctx
    from core.storage.models import Staff
    from flows.content import load_content
    from handoff import queries
    from handoff.removal import remove_from_roster

    staff = await session.get(Staff, staff_id)
    if staff is None:
        print(f"no staff member with id {staff_id}", file=sys.stderr)
        return 1
    settings = _settings()
    offered = [c for c in await queries.queued(session) if c.offered_staff_id == staff_id]
    busy = await queries.active_of(session, staff_id)
    problem = secret_key_problem(settings)
    if problem is not None and (busy or offered):
        # Parents get a signed Leave button, colleagues a signed Take button.
        print(f"error: {problem}", file=sys.stderr)
        print("Set it as for the line, then remove again: parents are waiting on "
              f"{len(busy) + len(offered)} conversation(s) with this person.", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    ctx = Ctx(session=session, now=now, settings=settings,
              content=load_content(settings.content_dir))
    role = staff.role
    moved = await remove_from_roster(ctx, staff)
    await ctx.audit("cli", "roster_remove",
                    details={"staff": staff_id, "role": role, "requeued": moved})
    await add_actions(session, ctx.actions, now)
    print(f"removed {staff_id}" + (f"; {moved} conversation(s) back at the front of the "
                                   "queue, their parents told" if moved else ""))
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    return asyncio.run(_with_db(args.staff_cmd, args))


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from core.storage.db import Database
    from core.storage.migrate import upgrade

    async def go() -> None:
        db = Database(_settings().database_url)
        await upgrade(db)
        await db.dispose()

    asyncio.run(go())
    print("database schema is up to date")
    return 0


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="parentline", description=__doc__)
    sub = p.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run the line (needs PARENTLINE_TELEGRAM_TOKEN)")
    run.add_argument("--take-over-webhook", action="store_true",
                     help="in polling mode, delete a webhook set for this bot (else refuse)")
    run.set_defaults(fn=cmd_run)
    demo = sub.add_parser("demo", help="try it in a browser: no token, no server needed")
    demo.add_argument("--port", type=int, default=8080)
    demo.set_defaults(fn=cmd_demo)

    config = sub.add_parser("config", help="the PARENTLINE_ settings")
    cfsub = config.add_subparsers(dest="config_cmd", required=True)
    cfsub.add_parser("check", help="name unknown PARENTLINE_ variables and explain bad values"
                     ).set_defaults(fn=cmd_config_check)

    content = sub.add_parser("content", help="coordinator tools for content/")
    csub = content.add_subparsers(dest="content_cmd", required=True)
    check = csub.add_parser("check", help="validate every content file")
    check.add_argument("dir", nargs="?")
    check.add_argument("--max-age-days", type=int, default=None)
    check.add_argument("--today", help="pretend today is YYYY-MM-DD (for testing)")
    check.set_defaults(fn=cmd_content_check)
    show = csub.add_parser("show-topic", help="what a parent with this topic would be offered")
    show.add_argument("topic_id")
    show.add_argument("--lang", choices=["en", "es"], default="en")
    show.add_argument("--region", help='a ZIP code, a state ("CA") or "County, ST"')
    show.add_argument("--demo", action="store_true", help="include the demo examples")
    show.add_argument("--dir", help="the content folder (default: PARENTLINE_CONTENT_DIR)")
    show.set_defaults(fn=cmd_content_show_topic)

    res = sub.add_parser("resources", help="resource directory tools")
    rsub = res.add_subparsers(dest="resources_cmd", required=True)
    imp = rsub.add_parser(
        "import", help="import an Open Referral (HSDS 2.0 CSV / 3.0 JSON) package into "
        "content/resources/imported-SOURCE.yaml; re-import keeps hand edits")
    imp.add_argument("path", help="an HSDS 3.0 .json file, or a folder of HSDS 2.0 CSV files")
    imp.add_argument("--timezone", required=True,
                     help="IANA time zone of the services' hours, e.g. America/Los_Angeles "
                     "(HSDS gives UTC offsets only)")
    imp.add_argument("--source", help="short name of the source, e.g. alameda-211 "
                     "(default: the file or folder name); names the output file")
    imp.add_argument("--content", help="the content folder (default: PARENTLINE_CONTENT_DIR)")
    imp.add_argument("--language", default="en", help="language of the source's texts")
    imp.add_argument("--dry-run", action="store_true", help="report, write nothing")
    imp.add_argument("--today", help="pretend today is YYYY-MM-DD (for testing)")
    imp.set_defaults(fn=cmd_resources_import)

    flows = sub.add_parser("flows", help="conversation flow tools")
    fsub = flows.add_subparsers(dest="flows_cmd", required=True)
    diag = fsub.add_parser("diagram", help="write a Mermaid diagram of each flow")
    diag.add_argument("--out", default="docs/flows")
    diag.set_defaults(fn=cmd_flows_diagram)

    safety = sub.add_parser("safety", help="crisis screening tools")
    ssub = safety.add_subparsers(dest="safety_cmd", required=True)
    ev = ssub.add_parser("eval", help="recall and false positives on labelled files")
    ev.add_argument("file", nargs="+")
    ev.add_argument("--misses", action="store_true",
                    help="also print every miss (never for the blind sets: counts only)")
    ev.set_defaults(fn=cmd_safety_eval)
    tr = ssub.add_parser("train", help="train the risk model from content/safety/corpus")
    tr.add_argument("--content", help="the content folder (default: PARENTLINE_CONTENT_DIR)")
    tr.add_argument("--check", action="store_true",
                    help="retrain the weights (keeping the shipped thresholds) and compare "
                    "with the shipped model byte for byte, instead of writing it")
    tr.add_argument("--cache", help="keep the per-writer predictions here between runs")
    tr.set_defaults(fn=cmd_safety_train)

    places = sub.add_parser("places", help="the offline ZIP, county and city table")
    psub = places.add_subparsers(dest="places_cmd", required=True)
    pb = psub.add_parser("build", help="rebuild flows/parent/data/us-places.tsv.gz from the "
                         "installed zipcodes package")
    pb.add_argument("--check", action="store_true",
                    help="compare with the shipped table instead of writing it")
    pb.set_defaults(fn=cmd_places_build)

    staff = sub.add_parser("staff", help="the roster of peer specialists and coordinators")
    stsub = staff.add_subparsers(dest="staff_cmd", required=True)
    add = stsub.add_parser("add", help="add or update a staff member")
    add.add_argument("telegram_user_id", type=int)
    add.add_argument("--name", required=True, help="display name the parent sees")
    add.add_argument("--role", choices=["specialist", "coordinator"], default="specialist")
    add.add_argument("--languages", default="en", help="e.g. en,es")
    add.add_argument("--max-active", type=int, default=3)
    add.add_argument("--experience", default="",
                     help="lived-experience tags from content/experience.yaml, "
                          "e.g. child-welfare,iep,recovery")
    add.set_defaults(fn=cmd_staff)
    exp = stsub.add_parser("experience", help="set a staff member's lived-experience tags")
    exp.add_argument("telegram_user_id", type=int)
    exp.add_argument("tags", help='comma-separated tags from content/experience.yaml ("" clears)')
    exp.set_defaults(fn=cmd_staff)
    stsub.add_parser("list", help="list the roster").set_defaults(fn=cmd_staff)
    rm = stsub.add_parser("remove", help="remove a staff member")
    rm.add_argument("telegram_user_id", type=int)
    rm.set_defaults(fn=cmd_staff)

    db = sub.add_parser("db", help="database tools")
    dsub = db.add_subparsers(dest="db_cmd", required=True)
    dsub.add_parser("upgrade", help="apply migrations").set_defaults(fn=cmd_db_upgrade)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "fn", None):
        parser.print_help()
        return 0
    return int(args.fn(args))


if __name__ == "__main__":
    raise SystemExit(main())
