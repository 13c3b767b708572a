"""Two writers benchmark: two officers editing one master copy at once.

    .venv/bin/python benchmarks/writers_bench.py                      # SQLite, ~1 minute
    .venv/bin/python benchmarks/writers_bench.py --store postgresql://…/db  # PostgreSQL

Builds one plan with ``synthetic.RegionWriter`` (``--actions``, default 100), then runs
two writers, each making ``--edits`` edits, one transaction each, as a form does
(``services.edit`` with the value the writer read, so a field changed meanwhile is
refused with ``EditConflictError``):

* **different records**: writer A edits the even actions' titles, writer B the odd
  ones. Prints commits per second for the two together, and conflicts (expected 0);
* **same record**: both edit one action's title, each reading it first. Prints commits
  per second, conflicts detected, and lost updates: title changes in the change log
  that no writer saw committed, or commits missing from the log (expected 0).

On SQLite the two writers are two threads, each with its own Store on the file
(``Store.another_writer``: the writer lock is one per app, so a second app is refused,
as it always was); SQLite's write lock orders their commits. On PostgreSQL they are two
processes, each with its own ``Store.open``. Nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Tally:
    commits: int = 0
    conflicts: int = 0
    seconds: float = 0.0


def edit_titles(store: Any, ids: list[uuid.UUID], edits: int, who: str) -> Tally:
    """``edits`` edits of the titles of ``ids`` in turn, each compare-and-set."""
    from ssp_desktop import services
    from ssp_desktop.domain.errors import EditConflictError, StoreBusyError
    from ssp_desktop.domain.records import Action

    tally = Tally()
    start = time.perf_counter()
    for n in range(edits):
        action_id = ids[n % len(ids)]
        with store.session() as s:
            read = s.get(Action, action_id).title
        try:
            with store.transaction(actor=who) as tx:
                action = tx.get(Action, action_id)
                services.edit(tx, action, expected={"title": read}, title=f"{who} edit {n}")
            tally.commits += 1
        except EditConflictError:
            tally.conflicts += 1
        except StoreBusyError:  # the other writer held SQLite's lock past the busy timeout
            tally.conflicts += 1
    tally.seconds = time.perf_counter() - start
    return tally


def _process(url: str, ids: list[str], edits: int, who: str, out: Any) -> None:
    from ssp_desktop.store.engine import Store

    with Store.open(url) as store:
        tally = edit_titles(store, [uuid.UUID(i) for i in ids], edits, who)
    out.put((who, tally.commits, tally.conflicts, tally.seconds))


def two_writers(
    store: Any, url: str | None, ids_a: list[uuid.UUID], ids_b: list[uuid.UUID], edits: int
) -> tuple[Tally, Tally, float]:
    """Run writers A and B at once; their tallies (each with its edit loop's seconds)
    and the wall-clock seconds, starting processes included."""
    start = time.perf_counter()
    if url is not None:
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        procs = [
            ctx.Process(target=_process, args=(url, [str(i) for i in ids], edits, who, out))
            for who, ids in (("A", ids_a), ("B", ids_b))
        ]
        for p in procs:
            p.start()
        got = {}
        for _ in procs:
            who, commits, conflicts, seconds = out.get()
            got[who] = Tally(commits, conflicts, seconds)
        for p in procs:
            p.join()
        return got["A"], got["B"], time.perf_counter() - start
    second = store.another_writer()
    results: dict[str, Tally] = {}
    try:
        threads = [
            threading.Thread(
                target=lambda w=who, s=st, i=ids: results.__setitem__(
                    w, edit_titles(s, i, edits, w)
                )
            )
            for who, st, ids in (("A", store, ids_a), ("B", second, ids_b))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        second.close()
    return results["A"], results["B"], time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=None, help="a postgresql:// URL; default SQLite")
    parser.add_argument("--actions", type=int, default=100)
    parser.add_argument("--edits", type=int, default=200, help="edits per writer")
    args = parser.parse_args(argv)
    os.environ["SSP_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="ssp-writers-bench-")

    from sqlalchemy import func, select

    from benchmarks.synthetic import RegionWriter, Shape
    from ssp_desktop.domain.records import Action, ChangeLog
    from ssp_desktop.store.engine import Store

    url: str | None = args.store if args.store and "://" in args.store else None
    target = args.store or str(Path(tempfile.mkdtemp(prefix="ssp-writers-")) / "plan.sqlite")
    shape = Shape(
        plans=1,
        actions_per_plan=args.actions,
        updates_per_action=0,
        measures_per_plan=1,
        quarters_per_measure=1,
    )
    with Store.open(target, create=True) as store:
        engine = store.engine.dialect.name
        print(f"engine {engine}, {args.actions} actions, {args.edits} edits per writer")
        RegionWriter(store, shape).build()
        with store.session() as s:
            ids = list(s.scalars(select(Action.id).order_by(Action.ref)))

        a, b, _wall = two_writers(store, url, ids[0::2], ids[1::2], args.edits)
        busy = max(a.seconds, b.seconds)  # the edit loops, without starting processes
        print(
            f"different records: {(a.commits + b.commits) / busy:.1f} commits/s together "
            f"({a.commits + b.commits} in {busy:.2f} s), conflicts {a.conflicts + b.conflicts}"
        )

        one = [ids[0]]
        with store.session() as s:
            before = s.scalar(
                select(func.count()).where(
                    ChangeLog.record_id == ids[0], ChangeLog.field == "title"
                )
            )
        a, b, _wall = two_writers(store, url, one, one, args.edits)
        busy = max(a.seconds, b.seconds)
        with store.session() as s:
            after = s.scalar(
                select(func.count()).where(
                    ChangeLog.record_id == ids[0], ChangeLog.field == "title"
                )
            )
        logged = int(after or 0) - int(before or 0)
        commits = a.commits + b.commits
        print(
            f"same record: {commits / busy:.1f} commits/s together, "
            f"conflicts detected {a.conflicts + b.conflicts} of {2 * args.edits} edits, "
            f"lost updates {abs(logged - commits)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
