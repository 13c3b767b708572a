"""Sync benchmark: a 10,000-change bundle from a lead, merged into the benchmark store.

Run from the project folder::

    python benchmarks/sync_bench.py [--out DIR] [--scale 1.0] [--changes N]

Steps, each timed:

1. build the benchmark store (``synthetic.py``: ten partnerships' plans at ``--scale``);
2. the master exports a starter bundle for one plan's three themes (a snapshot of the
   lead's scope), and it is imported into a new lead copy;
3. the lead makes ``--changes`` changes through the domain API (action titles and
   statuses, new quarterly updates, measure values; one change-log row each, roughly),
   and exports them: the bundle's size is reported;
4. the master imports the bundle: preview alone, then the whole import (preview, backup,
   one transaction, integrity check);
5. the master's reply (a snapshot with acknowledgements) and its import on the lead.

``--scale 0.02 --plans 2`` is a quick run for CI (a few seconds). Nothing is asserted.
Figures are printed and written to ``DIR/sync_bench.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from benchmarks.synthetic import RegionWriter, Shape
from ssp_desktop import services
from ssp_desktop.domain.enums import ActionStatus
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ChangeLog,
    Measure,
    Person,
    Priority,
)
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.export import export_changes, export_snapshot
from ssp_desktop.sync.importer import import_bundle, import_file, preview_bundle, read_sealed
from ssp_desktop.sync.keys import Identity, JoinRequest
from ssp_desktop.sync.trust import enrol

master_keys = Identity.generate()
lead_keys = Identity.generate()


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    for backup in path.parent.glob(f"{path.stem}.backup-*"):
        backup.unlink()


def timed(label: str, figures: dict[str, object], key: str, fn, *args, **kw):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kw)
    seconds = time.perf_counter() - start
    figures[key] = round(seconds, 3)
    print(f"{label:<58} {seconds:9.2f} s", flush=True)
    return result


def make_changes(lead: Store, wanted: int) -> int:
    """About ``wanted`` change-log rows on the lead, as a busy quarter would make: new
    titles and statuses, new quarterly updates, new measure values."""
    start = lead.revision()
    with lead.session() as s:
        action_ids = list(s.scalars(select(Action.id).where(Action.deleted_at.is_(None))))
        measure_ids = list(s.scalars(select(Measure.id).where(Measure.deleted_at.is_(None))))
    round_no = 0
    done = 0
    while done < wanted:
        round_no += 1
        with lead.transaction(actor="lead") as tx:
            for i, action_id in enumerate(action_ids):
                if i % 100 == 0:
                    tx.flush()
                    seq = tx.session.scalar(select(func.max(ChangeLog.seq))) or start
                    if seq - start >= wanted:
                        break
                action = tx.get(Action, action_id)
                assert action is not None
                kind = (i + round_no) % 3
                if kind == 0:
                    title = f"{action.title.split(' [')[0]} [rev {round_no}]"
                    services.edit(tx, action, title=title)
                elif kind == 1:
                    status = list(ActionStatus)[(i + round_no) % len(ActionStatus)]
                    services.edit(tx, action, status=status)
                else:
                    services.write_update(
                        tx,
                        action,
                        Quarter(2031, 1).shift(round_no),
                        rag=None,
                        narrative=f"Progress in round {round_no}",
                        written_on=dt.date(2031, 6, 30),
                    )
            for j, measure_id in enumerate(measure_ids):
                measure = tx.get(Measure, measure_id)
                assert measure is not None
                period = Quarter(2031, 1).shift(round_no * 4 + j % 4)
                # Kept under 100: at region scale a lead has hundreds of measures, some
                # of them percentages.
                services.record_value(tx, measure, period, 50.0 + j % 50)
        done = lead.revision() - start
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--plans", type=int, default=10)
    parser.add_argument("--changes", type=int, default=None)
    args = parser.parse_args(argv)
    changes = args.changes or max(100, round(10_000 * min(1.0, args.scale)))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, object] = {
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
        f", SQLite {sqlite3.sqlite_version}",
        "scale": args.scale,
        "plans": args.plans,
    }
    print(figures["machine"])
    master_path = out / "sync_master.sqlite"
    lead_path = out / "sync_lead.sqlite"
    remove(master_path)
    remove(lead_path)

    with Store.open(master_path, create=True) as master:
        shape = Shape.scaled(args.scale, plans=args.plans)
        writer = RegionWriter(master, shape)
        timed(
            f"build benchmark store ({shape.actions:,} actions, {shape.values:,} values)",
            figures,
            "build_seconds",
            writer.build,
        )
        plan_id = writer.result.plan_ids[0]
        with master.session() as s:
            codes = list(s.scalars(select(Priority.code).where(Priority.plan_id == plan_id)))
            person = s.scalars(select(Person)).first()
            assert person is not None
            with master.transaction() as tx:
                p = tx.get(Person, person.id)
                assert p is not None
                services.edit(tx, p, email="bench.lead@example.org")
        # Two installs: the master's keys and the lead's (enrolled as after a phone call).
        enrol(
            master,
            JoinRequest("Bench lead", "bench.lead@example.org", lead_keys.public, ""),
            lead_keys.fingerprint,
        )
        starter = out / "starter.sspbundle"
        result = timed(
            f"master: export starter for {', '.join(codes)}",
            figures,
            "starter_export_seconds",
            export_snapshot,
            master,
            starter,
            person="bench.lead@example.org",
            themes=codes,
            plan=str(plan_id),
            identity=master_keys,
        )
        figures["starter_records"] = result.count
        figures["starter_bytes"] = result.size
        print(f"{'  starter bundle':<58} {result.count:9,} records {result.size:12,} bytes")
    timed(
        "lead: import starter into a new store",
        figures,
        "starter_import_seconds",
        import_file,
        lead_path,
        starter,
        identity=lead_keys,
        master_fingerprint=master_keys.fingerprint,  # as read out to the lead
    )

    with Store.open(lead_path, all_partnerships=True) as lead:
        made = timed(
            f"lead: make about {changes:,} changes",
            figures,
            "edit_seconds",
            make_changes,
            lead,
            changes,
        )
        figures["changes"] = made
        bundle_path = out / "changes.sspbundle"
        exported = timed(
            "lead: export changes",
            figures,
            "changes_export_seconds",
            export_changes,
            lead,
            bundle_path,
            identity=lead_keys,
        )
        figures["bundle_changes"] = exported.count
        figures["bundle_bytes"] = exported.size
        print(f"{'  changes bundle':<58} {exported.count:9,} changes {exported.size:12,} bytes")

    with Store.open(master_path, all_partnerships=True) as master:
        bundle = timed(
            "master: open, read and check the bundle",
            figures,
            "read_seconds",
            read_sealed,
            bundle_path,
            master,
            master_keys,
        )
        preview = timed(
            "master: preview (plan the merge, no writes)",
            figures,
            "preview_seconds",
            preview_bundle,
            master,
            bundle,
        )
        figures["preview_counts"] = preview.counts
        print(f"  {preview.counts}")
        imported = timed(
            "master: import (preview, backup, apply, check)",
            figures,
            "import_seconds",
            import_bundle,
            master,
            bundle,
        )
        figures["conflicts"] = len(imported.preview.conflicts)
        reply_path = out / "reply.sspbundle"
        reply = timed(
            "master: export reply snapshot",
            figures,
            "reply_export_seconds",
            export_snapshot,
            master,
            reply_path,
            person="bench.lead@example.org",
            identity=master_keys,
        )
        figures["reply_bytes"] = reply.size
        figures["master_bytes"] = master_path.stat().st_size
    with Store.open(lead_path, all_partnerships=True) as lead:
        timed(
            "lead: import reply",
            figures,
            "reply_import_seconds",
            import_bundle,
            lead,
            read_sealed(reply_path, lead, lead_keys),
        )
    (out / "sync_bench.json").write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
