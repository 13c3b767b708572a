"""Region-scale benchmark: ten partnerships in one store, one of them opened (issue 19).

Run from the project folder::

    python benchmarks/region_bench.py                          # SQLite, full scale
    python benchmarks/region_bench.py --engine postgresql      # a throwaway server
    python benchmarks/region_bench.py --store postgresql://…   # a server of your own
    python benchmarks/region_bench.py --engine both --scale 0.004   # tiny, for CI
    python benchmarks/region_bench.py --store region.sqlite --reuse     # measure again
    python benchmarks/region_bench.py --engine postgresql --copy-from region.sqlite

``--scale 1`` is the issue's region: ``--partnerships`` (10) partnerships of 5,000
actions each (four quarterly updates per action; 500 measures per partnership with 40
quarters of values), written with ``synthetic.RegionWriter`` through the domain API.
The store is then opened *for one partnership* (every read filtered to it) and each
step is timed:

1. **list filter**: the action list of the open partnership's plan (every row), then
   the same ids sorted by RAG, and a search of the whole plan;
2. **pack**: the quarter's board pack for that partnership, exported end to end;
3. **bundle import**: a lead of that partnership receives a starter, makes about
   ``--changes`` changes (10,000 at scale 1) and sends them; the master's import of
   that bundle (preview, backup, one transaction, integrity check);
4. **two writers**: two threads on the open region store editing different actions'
   titles, one transaction per edit: commits per second together
   (``benchmarks/writers_bench.py`` measures two writers, and conflicts, on a store
   of its own);
5. **region summary**: every partnership's RAG counts per priority.

Nothing is asserted. Figures are printed and written to ``DIR/region_bench.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Every store and key this run makes stays in a temporary home, never the user's.
os.environ.setdefault("SSP_DESKTOP_HOME", tempfile.mkdtemp(prefix="ssp-region-bench-"))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.pack_bench import REGION_QUARTER  # noqa: E402
from benchmarks.sync_bench import make_changes  # noqa: E402
from benchmarks.synthetic import RegionWriter, Shape  # noqa: E402
from ssp_desktop import services  # noqa: E402
from ssp_desktop.domain.records import Action, Person, Plan, Priority  # noqa: E402
from ssp_desktop.queries import lists  # noqa: E402
from ssp_desktop.queries.region import region_summary  # noqa: E402
from ssp_desktop.queries.search import search_plan  # noqa: E402
from ssp_desktop.reports.export import export_pack, prepare_pack  # noqa: E402
from ssp_desktop.store.copy import copy_store  # noqa: E402
from ssp_desktop.store.engine import Store  # noqa: E402
from ssp_desktop.sync.export import export_changes, export_snapshot  # noqa: E402
from ssp_desktop.sync.importer import import_bundle, import_file, read_sealed  # noqa: E402
from ssp_desktop.sync.keys import Identity, JoinRequest  # noqa: E402
from ssp_desktop.sync.trust import enrol  # noqa: E402

LEAD_EMAIL = "region.lead@example.org"


def timed(figures: dict[str, Any], key: str, label: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    figures[key] = round(seconds, 4)
    print(f"  {label:<62} {seconds:9.3f} s", flush=True)
    return result


def two_writers_simply(store: Store, ids: list[Any], edits: int) -> dict[str, Any]:
    """Two threads on one open store, each editing its own actions' titles. A write
    refused as busy (SQLite: the other's write lock) is tried again, and counted."""
    from ssp_desktop.domain.errors import StoreBusyError

    failures: list[BaseException] = []
    busy = [0, 0]

    def work(mine: list[Any], who: str, slot: int) -> None:
        try:
            for n in range(edits):
                while True:
                    try:
                        with store.transaction(actor=who) as tx:
                            action = tx.get(Action, mine[n % len(mine)])
                            assert action is not None
                            title = f"{action.title.split(' <')[0]} <{who}{n}>"
                            services.edit(tx, action, title=title)
                        break
                    except StoreBusyError:
                        busy[slot] += 1
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [
        threading.Thread(target=work, args=(ids[0::2], "a", 0)),
        threading.Thread(target=work, args=(ids[1::2], "b", 1)),
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if failures:
        raise failures[0]
    return {
        "commits": 2 * edits,
        "busy_retries": sum(busy),
        "seconds": round(seconds, 4),
        "per_second": 2 * edits / seconds,
    }


def two_writers(store: Store, target: str, ids: list[Any], edits: int) -> dict[str, Any]:
    # On the region store itself (benchmarks/writers_bench.py builds a store of its own,
    # so it cannot run against this one): two writers editing different actions.
    figures = two_writers_simply(store, ids, edits)
    print(
        f"  {'two writers (threads, different actions)':<62} "
        f"{figures['per_second']:9.1f} commits/s ({figures['busy_retries']} busy, retried)",
        flush=True,
    )
    return figures


def run(
    target: str,
    scale: float,
    partnerships: int,
    changes: int,
    out: Path,
    *,
    reuse: bool = False,
    copy_from: str | None = None,
) -> dict[str, Any]:
    figures: dict[str, Any] = {"scale": scale, "partnerships": partnerships}
    if copy_from is not None:
        # The same region on another engine: copied whole (store copy), not built again.
        made = timed(
            figures,
            "copy_seconds",
            f"store copy from {Path(copy_from).name}",
            lambda: copy_store(copy_from, target),
        )
        figures["copied_rows"] = sum(made.rows.values())
        reuse = True
    if reuse:
        plan_id, name = _built_region(target, figures)
    else:
        plan_id, name = _build_region(target, scale, partnerships, figures)

    master_keys, lead_keys = Identity.generate(), Identity.generate()
    with Store.open(target, partnership=name) as store:
        print(f"  opened for {name} (1 of {store.partnership_count})", flush=True)
        with store.session() as s:
            rows = timed(
                figures,
                "list_rows_seconds",
                "list: every action row of the plan",
                lambda: lists.action_rows(s, plan_id),
            )
            figures["list_rows"] = len(rows)
            timed(
                figures,
                "list_sort_rag_seconds",
                "list: ids sorted by RAG",
                lambda: lists.action_ids(s, plan_id, lists.ActionSort.RAG),
            )
            timed(
                figures,
                "search_seconds",
                'search the plan for "domestic"',
                lambda: search_plan(s, "domestic"),
            )
            summary = timed(
                figures,
                "region_summary_seconds",
                "region summary (every partnership)",
                lambda: region_summary(s),
            )
            figures["region_summary_partnerships"] = len(summary)
        pack_id = prepare_pack(store, plan_id, REGION_QUARTER, meeting_date=REGION_QUARTER.end_date)
        result = timed(
            figures,
            "pack_seconds",
            f"pack for {REGION_QUARTER.label}",
            lambda: export_pack(store, pack_id, out / "region-pack.pdf"),
        )
        figures["pack_pages"] = result.pages
        enrol(store, JoinRequest("Lead", LEAD_EMAIL, lead_keys.public, ""), lead_keys.fingerprint)
        starter = out / "region-starter.sspbundle"
        with store.session() as s:
            codes = list(s.scalars(select(Priority.code).where(Priority.plan_id == plan_id)))
        export_snapshot(
            store,
            starter,
            person=LEAD_EMAIL,
            themes=codes,
            plan=str(plan_id),
            identity=master_keys,
        )
    lead_path = out / "region-lead.sqlite"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{lead_path}{suffix}").unlink(missing_ok=True)
    import_file(lead_path, starter, identity=lead_keys, master_fingerprint=master_keys.fingerprint)
    changes_path = out / "region-changes.sspbundle"
    with Store.open(lead_path) as lead:
        made = make_changes(lead, changes)
        export_changes(lead, changes_path, identity=lead_keys)
    figures["bundle_changes"] = made
    print(f"  {'lead: changes in the bundle':<62} {made:9,}", flush=True)
    with Store.open(target, partnership=name) as store:
        bundle = read_sealed(changes_path, store, master_keys)
        imported = timed(
            figures,
            "bundle_import_seconds",
            f"import a {made:,}-change bundle",
            lambda: import_bundle(store, bundle, file_name=changes_path.name),
        )
        figures["bundle_applied"] = imported.applied
        with store.session() as s:
            ids = list(s.scalars(select(Action.id).where(Action.plan_id == plan_id).limit(200)))
        figures["two_writers"] = two_writers(store, target, ids, max(20, round(200 * scale)))
    return figures


def _build_region(
    target: str, scale: float, partnerships: int, figures: dict[str, Any]
) -> tuple[Any, str]:
    shape = Shape.scaled(10 * scale, plans=partnerships)
    with Store.open(target, create=True) as store:
        engine = store.engine.dialect.name
        figures["engine"] = engine
        print(
            f"{engine}: {partnerships} partnerships x {shape.actions_per_plan:,} actions "
            f"({shape.actions:,} actions, {shape.updates:,} updates, {shape.values:,} values)",
            flush=True,
        )
        built = timed(figures, "build_seconds", "build", RegionWriter(store, shape).build)
        plan_id = built.plan_ids[0]
        with store.session() as s:
            person = s.scalars(
                select(Person).where(Person.partnership_id == _partnership_of(s, plan_id))
            ).first()
            assert person is not None
        with store.transaction(actor="bench") as tx:
            p = tx.get(Person, person.id)
            assert p is not None
            services.edit(tx, p, email=LEAD_EMAIL)
        name = next(p.name for p in store.held_partnerships() if p.id == person.partnership_id)
    return plan_id, name


def _built_region(target: str, figures: dict[str, Any]) -> tuple[Any, str]:
    """A region store built before (``--reuse``, or copied): the lead's partnership's
    plan. A run before may have left its pack and the lead's enrolment: making the pack
    finds the same one again, and the lead enrols a fresh key."""
    with Store.open(target, all_partnerships=True) as store:
        engine = store.engine.dialect.name
        figures["engine"] = engine
        with store.session() as s:
            person = s.scalars(select(Person).where(Person.email == LEAD_EMAIL)).first()
            if person is None:
                raise SystemExit(f"{target} holds no region built by this benchmark")
            plan_id = s.scalars(
                select(Plan.id)
                .where(Plan.partnership_id == person.partnership_id)
                .order_by(Plan.start_year)
            ).first()
            actions = s.scalar(select(func.count()).select_from(Action)) or 0
        name = next(p.name for p in store.held_partnerships() if p.id == person.partnership_id)
        print(f"{engine}: a region built before ({actions:,} actions in all)", flush=True)
    return plan_id, name


def _partnership_of(session: Any, plan_id: Any) -> Any:
    from ssp_desktop.domain.records import Plan

    plan = session.get(Plan, plan_id)
    return plan.partnership_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1 = 5,000 actions per partnership"
    )
    parser.add_argument("--partnerships", type=int, default=10)
    parser.add_argument("--changes", type=int, default=None)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--store", help="a store to fill: a new file, or an empty server db")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="--store already holds a region this benchmark built: measure, do not build",
    )
    parser.add_argument(
        "--copy-from",
        help="with --engine postgresql: copy this SQLite region store to the server "
        "(store copy) instead of building it there",
    )
    args = parser.parse_args(argv)
    changes = args.changes or max(100, round(10_000 * min(1.0, args.scale)))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    results = []
    if args.store:
        results.append(
            run(args.store, args.scale, args.partnerships, changes, out, reuse=args.reuse)
        )
    else:
        if args.engine in ("sqlite", "both"):
            path = out / "region.sqlite"
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            results.append(run(str(path), args.scale, args.partnerships, changes, out))
        if args.engine in ("postgresql", "both"):
            from tests.pgserver import PgServer

            server = PgServer.start()
            try:
                url = server.create_database("region_bench")
                results.append(
                    run(
                        url,
                        args.scale,
                        args.partnerships,
                        changes,
                        out,
                        copy_from=args.copy_from,
                    )
                )
            finally:
                server.stop()
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    (out / "region_bench.json").write_text(json.dumps({"at": stamp, "runs": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
