"""Peers: each figure of benchmarks/README.md's table beside its floor or peer, in one run.

    .venv/bin/python benchmarks/peers.py                  # full scale, ~10 minutes here
    .venv/bin/python benchmarks/peers.py --scale 0.02 --repeats 1   # CI's tiny run
    .venv/bin/python benchmarks/peers.py --only pack,check

Every row runs its contenders alternately (ours, the peer, ours, the peer...), each
``--repeats`` times, so load from other work on the machine falls on both; it prints
the best and the median of each and the ratio of the medians. Inputs are made with
the other benchmarks' builders (``synthetic.py``'s region, ``sync_bench.py``'s lead
changes, ``xlsx_bench.py``'s tracker), at ``--scale``:

* **pack**: the board pack of one benchmark plan (500 actions, 50 measures at scale 1),
  exported end to end, tagged, with charts (``export_pack``), in pages per second;
  beside Typst (PyPI ``typst``, the ``bench`` extra) compiling a tagged PDF/UA-1
  document of the same plan's text and tables, and one-pass ReportLab (platypus
  ``SimpleDocTemplate.build``, untagged, no charts) of the same text and tables. Both
  peers' documents are repeated to about the pack's length, with the same font.
* **bundle import**: a lead's bundle of about 10,000 changes into a region master
  (``import_file``: read, preview, backup, one transaction, integrity check) beside its
  floor: a backup of the master, the same rows the import wrote (every row it added or
  changed, found by comparing the store before and after) written with sqlite3 in one
  transaction, and SQLite's integrity and foreign-key checks.
* **spreadsheet apply**: applying a 5,000-row action tracker (``importing.apply``, one
  transaction, given the preview the user approved, made untimed beforehand, as the
  wizard and the command line do) beside the same rows written with sqlite3.
* **start-up**: launch to the window painted and to the sample plan usable, beside a
  bare PySide6 ``QMainWindow`` painted (fresh processes; ``startup_bench.py``).
* **check**: ``ssp-desktop check``'s work (open read-only, ``check_store``) on the region
  master beside SQLite's ``PRAGMA integrity_check`` and ``foreign_key_check``.

Stores and PDFs go to ``--out`` (default ``benchmarks/out/peers``). Nothing is
asserted; the figures are also written to ``OUT/peers.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ROWS = ("pack", "bundle", "xlsx", "startup", "check")
FONTS = ROOT / "ssp_desktop" / "resources" / "fonts"
FIGURES: dict[str, Any] = {}


@dataclass
class Contender:
    """One side of a row: ``setup`` (not timed) then ``run`` (timed), which may return
    a count (pages) for a rate."""

    name: str
    run: Callable[[], object]
    setup: Callable[[], object] | None = None


def alternate(contenders: Sequence[Contender], repeats: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {c.name: [] for c in contenders}
    for _ in range(repeats):
        for c in contenders:
            if c.setup is not None:
                c.setup()
            start = time.perf_counter()
            c.run()
            times[c.name].append(time.perf_counter() - start)
    return times


def report(row: str, times: dict[str, list[float]], *, ours: str, unit: str = "s") -> None:
    """Print best and median of each contender, and each peer's ratio to ours."""
    medians = {name: statistics.median(t) for name, t in times.items()}
    FIGURES[row] = {
        name: {"best_s": min(t), "median_s": medians[name], "runs_s": t}
        for name, t in times.items()
    }
    for name, t in times.items():
        ratio = ""
        if name != ours:
            ratio = f"   ours / this: {medians[ours] / medians[name]:.2f}x"
            FIGURES[row][name]["ours_over_this"] = medians[ours] / medians[name]
        print(
            f"  {name:<46} best {min(t):8.3f} {unit}, median {medians[name]:8.3f} {unit}{ratio}",
            flush=True,
        )


def report_rates(row: str, times: dict[str, list[float]], pages: dict[str, int]) -> None:
    """Pages per second (from each contender's page count), best and median."""
    FIGURES[row] = {}
    ours = next(iter(times))
    rates = {n: statistics.median(pages[n] / s for s in t) for n, t in times.items()}
    for name, t in times.items():
        best = max(pages[name] / s for s in t)
        FIGURES[row][name] = {
            "pages": pages[name],
            "best_pages_per_s": best,
            "median_pages_per_s": rates[name],
            "runs_s": t,
        }
        ratio = ""
        if name != ours:
            ratio = f"   this / ours: {rates[name] / rates[ours]:.2f}x"
            FIGURES[row][name]["this_over_ours"] = rates[name] / rates[ours]
        print(
            f"  {name:<46} {pages[name]:4d} pages: best {best:7.1f} pages/s, "
            f"median {rates[name]:7.1f} pages/s{ratio}",
            flush=True,
        )


# --------------------------------------------------------------------------- stores


def store_files(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm", ".lock")]


def remove(path: Path) -> None:
    for f in store_files(path):
        f.unlink(missing_ok=True)


def copy_store(source: Path, target: Path) -> None:
    """A byte copy of a closed store (its WAL folded in first)."""
    remove(target)
    conn = sqlite3.connect(source)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    shutil.copyfile(source, target)


def _plain_tables(conn: sqlite3.Connection) -> list[str]:
    """The store's ordinary tables: not SQLite's, not the search index (a virtual table)
    or its shadow tables, which only the FTS5 module writes."""
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
    return [
        name
        for name, _sql in rows
        if not name.startswith("sqlite_")
        and name not in virtual
        and not any(name.startswith(f"{v}_") for v in virtual)
    ]


@dataclass
class RowChanges:
    """Rows a write added or changed, table by table (in the order SQLite lists them)."""

    tables: list[tuple[str, list[str], list[tuple[object, ...]]]]

    @property
    def count(self) -> int:
        return sum(len(rows) for _t, _c, rows in self.tables)


def row_changes(before: Path, after: Path) -> RowChanges:
    """Every row of ``after`` that ``before`` does not hold exactly (new or changed)."""
    old = sqlite3.connect(before)
    new = sqlite3.connect(after)
    try:
        tables = []
        for table in _plain_tables(new):
            columns = [r[1] for r in new.execute(f'PRAGMA table_info("{table}")')]
            names = ", ".join(f'"{c}"' for c in columns)
            had = set(old.execute(f'SELECT {names} FROM "{table}"'))
            rows = [r for r in new.execute(f'SELECT {names} FROM "{table}"') if r not in had]
            if rows:
                tables.append((table, columns, rows))
        return RowChanges(tables)
    finally:
        old.close()
        new.close()


def write_rows(path: Path, changes: RowChanges) -> None:
    """The floor of a write: the same rows with sqlite3, one transaction, foreign keys
    on (checked at commit, as the rows come table by table)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("PRAGMA defer_foreign_keys = ON")
        for table, columns, rows in changes.tables:
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            update = ", ".join(f'"{c}" = excluded."{c}"' for c in columns)
            conn.executemany(
                f'INSERT INTO "{table}" ({names}) VALUES ({marks}) '
                f"ON CONFLICT DO UPDATE SET {update}",
                rows,
            )
        conn.execute("COMMIT")
    finally:
        conn.close()


def integrity_and_foreign_keys(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA integrity_check").fetchall()
        conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()


def sqlite_backup(source: Path, target: Path) -> None:
    """A backup as the importer takes one: SQLite's online backup into a new file."""
    target.unlink(missing_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# --------------------------------------------------------------------------- the pack


@dataclass
class PlanText:
    """A plan's text and tables, as the board pack prints them, for the peers."""

    title: str
    sections: list[tuple[str, list[tuple[str, str, list[list[str]]]]]]  # priority, areas
    measures: list[tuple[str, list[list[str]]]]


def plan_text(session: Any, plan_id: Any) -> PlanText:
    from sqlalchemy import select

    from ssp_desktop.domain.records import (
        Action,
        ActionUpdate,
        Measure,
        MeasureValue,
        Organisation,
        Plan,
        Priority,
        PriorityArea,
    )

    plan = session.get(Plan, plan_id)
    orgs = {o.id: o.name for o in session.scalars(select(Organisation))}
    latest: dict[Any, str] = {}
    for update in session.scalars(
        select(ActionUpdate)
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(Action.plan_id == plan_id)
        .order_by(ActionUpdate.quarter)
    ):
        latest[update.action_id] = update.narrative
    sections = []
    for priority in session.scalars(
        select(Priority).where(Priority.plan_id == plan_id).order_by(Priority.position)
    ):
        areas = []
        for area in session.scalars(
            select(PriorityArea)
            .where(PriorityArea.priority_id == priority.id)
            .order_by(PriorityArea.position)
        ):
            rows = [
                [
                    a.ref,
                    a.title,
                    orgs.get(a.lead_organisation_id, ""),
                    a.due_date.strftime("%d %b %Y") if a.due_date else "",
                    a.rag.value if a.rag else "Not rated",
                    latest.get(a.id, ""),
                ]
                for a in session.scalars(
                    select(Action).where(Action.priority_area_id == area.id).order_by(Action.ref)
                )
            ]
            areas.append((area.title, area.description, rows))
        sections.append((f"{priority.code}: {priority.title}", areas))
    measures = []
    for measure in session.scalars(
        select(Measure).where(Measure.plan_id == plan_id).order_by(Measure.ref)
    ):
        values = list(
            session.scalars(
                select(MeasureValue)
                .where(MeasureValue.measure_id == measure.id)
                .order_by(MeasureValue.period.desc())
                .limit(8)
            )
        )
        rows = [[v.period.label, f"{v.value:g}", v.status.value] for v in reversed(values)]
        measures.append((f"{measure.ref}: {measure.name}", rows))
    return PlanText(plan.title, sections, measures)


def _typst_text(text: str) -> str:
    """Text as a Typst string literal placed in markup: nothing in it is markup."""
    return '#"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def typst_source(text: PlanText, copies: int) -> str:
    head = f"""#set document(title: {_typst_text(text.title)[1:]}, author: "ssp-desktop peers")
#set text(font: "DejaVu Sans", size: 9pt, lang: "en", region: "gb")
#set page(paper: "a4", margin: (x: 1.8cm, y: 2cm),
  header: [OFFICIAL #h(1fr) {_typst_text(text.title)}],
  footer: context [#h(1fr) Page #counter(page).display() of #counter(page).final().first()])
#set heading(numbering: none)
#outline()
"""
    body: list[str] = []
    for section, areas in text.sections:
        body.append(f"= {_typst_text(section)}")
        for title, description, rows in areas:
            body.append(f"== {_typst_text(title)}")
            if description:
                body.append(_typst_text(description))
            cells = ["table.header([*Ref*], [*Action*], [*Lead*], [*Due*], [*RAG*], [*Update*])"]
            cells += [f"[{_typst_text(cell)}]" for row in rows for cell in row]
            body.append(
                "#table(columns: (auto, 2fr, 1fr, auto, auto, 2fr), " + ", ".join(cells) + ")"
            )
    body.append("= Measures")
    for name, rows in text.measures:
        body.append(f"== {_typst_text(name)}")
        cells = ["table.header([*Quarter*], [*Value*], [*Status*])"]
        cells += [f"[{_typst_text(cell)}]" for row in rows for cell in row]
        body.append("#table(columns: (auto, auto, auto), " + ", ".join(cells) + ")")
    return head + "\n\n".join(body * copies) + "\n"


def typst_pdf(source: str) -> bytes:
    import typst

    return typst.compile(
        source.encode(), format="pdf", font_paths=[str(FONTS)], pdf_standards="ua-1"
    )


def reportlab_pdf(text: PlanText, copies: int, out: Path) -> int:
    """One pass of platypus over the same text and tables (no contents page numbers,
    so no second pass; untagged; no charts). Returns the page count."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle
    from reportlab.platypus.tableofcontents import TableOfContents

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONTS / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(FONTS / "DejaVuSans-Bold.ttf")))
    body = ParagraphStyle("body", fontName="DejaVuSans", fontSize=9, leading=11)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=10)
    h1 = ParagraphStyle("h1", parent=body, fontName="DejaVuSans-Bold", fontSize=14, leading=18)
    h2 = ParagraphStyle("h2", parent=body, fontName="DejaVuSans-Bold", fontSize=11, leading=14)
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )

    def esc(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def table(heading: list[str], rows: list[list[str]], widths: list[float]) -> Table:
        data = [[Paragraph(f"<b>{h}</b>", cell) for h in heading]]
        data += [[Paragraph(esc(c), cell) for c in row] for row in rows]
        return Table(data, colWidths=widths, repeatRows=1, style=grid)

    width = A4[0] - 3.6 * cm
    action_widths = [w * width for w in (0.08, 0.3, 0.16, 0.1, 0.08, 0.28)]
    story: list[Any] = [TableOfContents()]
    for _ in range(copies):
        for section, areas in text.sections:
            story.append(Paragraph(esc(section), h1))
            for title, description, rows in areas:
                story.append(Paragraph(esc(title), h2))
                if description:
                    story.append(Paragraph(esc(description), body))
                story.append(
                    table(["Ref", "Action", "Lead", "Due", "RAG", "Update"], rows, action_widths)
                )
        story.append(Paragraph("Measures", h1))
        for name, rows in text.measures:
            story.append(Paragraph(esc(name), h2))
            story.append(table(["Quarter", "Value", "Status"], rows, [width / 3] * 3))

    def furniture(canvas: Any, doc: Any) -> None:
        canvas.setFont("DejaVuSans", 8)
        canvas.drawString(1.8 * cm, A4[1] - 1.2 * cm, f"OFFICIAL  {text.title}")
        canvas.drawRightString(A4[0] - 1.8 * cm, 1.2 * cm, f"Page {doc.page}")

    doc = SimpleDocTemplate(
        str(out), pagesize=A4, leftMargin=1.8 * cm, rightMargin=1.8 * cm, title=text.title
    )
    doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return int(doc.page)


def pdf_pages(data: bytes) -> int:
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def row_pack(out: Path, scale: float, repeats: int) -> None:
    from sqlalchemy import select

    from benchmarks.pack_bench import REGION_QUARTER
    from benchmarks.synthetic import RegionWriter, Shape
    from ssp_desktop.domain.records import Plan
    from ssp_desktop.reports.export import export_pack, prepare_pack
    from ssp_desktop.store.engine import Store

    path = out / "pack-plan.sqlite"
    remove(path)
    shape = Shape.scaled(scale, plans=1)
    with Store.open(path, create=True) as store:
        RegionWriter(store, shape).build()
        with store.session() as s:
            plan_id = s.scalars(select(Plan.id)).one()
            text = plan_text(s, plan_id)
        pack_id = prepare_pack(store, plan_id, REGION_QUARTER, meeting_date=REGION_QUARTER.end_date)
        pages = {
            "ssp-desktop pack (tagged, charts)": export_pack(store, pack_id, out / "p.pdf").pages
        }
        # Each peer's document repeated to about the pack's length (a few pages over).
        one = pdf_pages(typst_pdf(typst_source(text, 1)))
        typst_copies = max(1, math.ceil(pages["ssp-desktop pack (tagged, charts)"] / one))
        source = typst_source(text, typst_copies)
        typst_name = "Typst, tagged PDF/UA-1, same text and tables"
        pages[typst_name] = pdf_pages(typst_pdf(source))
        rl_one = reportlab_pdf(text, 1, out / "reportlab.pdf")
        rl_copies = max(1, math.ceil(pages["ssp-desktop pack (tagged, charts)"] / rl_one))
        rl_name = "ReportLab one pass, same text and tables"
        pages[rl_name] = reportlab_pdf(text, rl_copies, out / "reportlab.pdf")
        print(
            f"pack: one plan ({shape.actions_per_plan} actions, {shape.measures_per_plan} measures)"
        )
        times = alternate(
            [
                Contender(
                    "ssp-desktop pack (tagged, charts)",
                    lambda: export_pack(store, pack_id, out / "pack.pdf"),
                ),
                Contender(typst_name, lambda: (out / "typst.pdf").write_bytes(typst_pdf(source))),
                Contender(rl_name, lambda: reportlab_pdf(text, rl_copies, out / "reportlab.pdf")),
            ],
            repeats,
        )
    report_rates("pack", times, pages)


# --------------------------------------------------------------------------- region


@dataclass
class Region:
    master: Path
    bundle: Path
    master_keys: Any


def build_region(out: Path, scale: float, plans: int) -> Region:
    """The import benchmark's world (``import_bench.build_fixtures``): a region master,
    and a lead's bundle of about 10,000 changes (scaled) to plan 0's themes."""
    from benchmarks.import_bench import build_fixtures
    from benchmarks.synthetic import Shape

    shape = Shape.scaled(scale, plans=plans)
    master_keys, made = build_fixtures(out, scale, plans, max(100, round(10_000 * min(1.0, scale))))
    print(
        f"region: {shape.actions:,} actions, {shape.values:,} values in {plans} plans; "
        f"a lead's bundle of {made:,} changes"
    )
    return Region(out / "master.sqlite", out / "changes.sspbundle", master_keys)


def row_bundle(out: Path, region: Region, repeats: int) -> None:
    from ssp_desktop.sync.importer import import_file

    work = out / "import-target.sqlite"
    floor = out / "import-floor.sqlite"
    backup = out / "import-floor-backup.sqlite"
    copy_store(region.master, work)
    # The region master holds several partnerships: the import opens it for the one the
    # bundle's plan belongs to, as `bundle import --partnership NAME` would.
    from ssp_desktop.store import partnerships
    from ssp_desktop.store.engine import Store
    from ssp_desktop.sync.importer import read_sealed

    with Store.open(work, readonly=True, all_partnerships=True) as store:
        bundle = read_sealed(region.bundle, store, region.master_keys)
        with store.session() as s:
            owner = partnerships.partnership_of_plan(s, bundle.manifest.plan_id)
    partnerships.request(owner.name if owner is not None else None)
    result = import_file(work, region.bundle, identity=region.master_keys)
    assert result.applied, result.preview
    changes = row_changes(region.master, work)
    print(f"bundle import: {changes.count:,} rows added or changed by the import")

    def floor_run() -> None:
        sqlite_backup(floor, backup)
        write_rows(floor, changes)
        integrity_and_foreign_keys(floor)

    times = alternate(
        [
            Contender(
                "ssp-desktop bundle import",
                lambda: import_file(work, region.bundle, identity=region.master_keys),
                setup=lambda: copy_store(region.master, work),
            ),
            Contender(
                "floor: backup + same rows (sqlite3) + checks",
                floor_run,
                setup=lambda: copy_store(region.master, floor),
            ),
        ],
        repeats,
    )
    report("bundle import", times, ours="ssp-desktop bundle import")
    for f in (backup, *out.glob("import-target*.bak*"), *out.glob("*.backup*")):
        f.unlink(missing_ok=True)


def row_check(region: Region, repeats: int) -> None:
    from ssp_desktop.store.engine import Store
    from ssp_desktop.store.integrity import check_store

    def ours() -> None:
        with Store.open(region.master, readonly=True, all_partnerships=True) as store:
            problems = check_store(store)
        assert problems == [], problems

    print("check: the region master")
    times = alternate(
        [
            Contender("ssp-desktop check", ours),
            Contender(
                "SQLite integrity_check + foreign_key_check",
                lambda: integrity_and_foreign_keys(region.master),
            ),
        ],
        repeats,
    )
    report("check", times, ours="ssp-desktop check")


# --------------------------------------------------------------------------- spreadsheet


def row_xlsx(out: Path, scale: float, repeats: int) -> None:
    from benchmarks.synthetic import RegionWriter, Shape
    from benchmarks.xlsx_bench import write_tracker
    from ssp_desktop.domain.periods import Quarter
    from ssp_desktop.spreadsheets import importing
    from ssp_desktop.store.engine import Store

    base = out / "xlsx-plan.sqlite"
    remove(base)
    with Store.open(base, create=True) as store:
        RegionWriter(store, Shape.scaled(scale, plans=1)).build()
        rows = max(1, round(5000 * scale))
        tracker = out / "tracker.xlsx"
        write_tracker(store, tracker, rows)
    prepared = importing.prepare(tracker)
    options = importing.ImportOptions(quarter=Quarter(2024, 2), today=dt.date(2024, 10, 20))
    work = out / "xlsx-import.sqlite"
    floor = out / "xlsx-floor.sqlite"
    copy_store(base, work)
    with Store.open(work, all_partnerships=True) as store:
        importing.apply(store, prepared, options)
    changes = row_changes(base, work)
    print(f"spreadsheet apply: a {rows:,}-row tracker; {changes.count:,} rows added or changed")

    shown: list[importing.ImportPlan] = []

    def preview() -> None:
        # The preview the user approves (not timed): the apply carries out its plan.
        copy_store(base, work)
        with Store.open(work, all_partnerships=True) as store:
            shown[:] = [importing.preview(store, prepared, options)]

    def apply() -> None:
        with Store.open(work, all_partnerships=True) as store:
            importing.apply(store, prepared, options, previewed=shown[0])

    times = alternate(
        [
            Contender("ssp-desktop apply", apply, setup=preview),
            Contender(
                "floor: the same rows with sqlite3",
                lambda: write_rows(floor, changes),
                setup=lambda: copy_store(base, floor),
            ),
        ],
        repeats,
    )
    report("spreadsheet apply", times, ours="ssp-desktop apply")


# --------------------------------------------------------------------------- start-up


def row_startup(out: Path, repeats: int) -> None:
    from benchmarks.startup_bench import launch_figures

    print("start-up: fresh processes, sample plan")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "SSP_DESKTOP_HOME": str(out / "home"),
    }
    figures = launch_figures(env, repeats)
    times = {
        "ssp-desktop usable (plan shown)": figures["usable"],
        "ssp-desktop painted (frame, Loading plan…)": figures["painted"],
        "bare PySide6 QMainWindow painted": figures["bare"],
    }
    report("start-up", times, ours="ssp-desktop usable (plan shown)")
    bare = statistics.median(figures["bare"])
    painted = statistics.median(figures["painted"])
    print(f"  {'painted / bare:':<46} {painted / bare:.2f}x")
    FIGURES["start-up"]["painted_over_bare"] = painted / bare


# --------------------------------------------------------------------------- main


def parse_rows(text: str) -> list[str]:
    rows = [r.strip() for r in text.split(",") if r.strip()]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown rows {unknown}; choose from {list(ROWS)}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies plans' actions, measures, rows"
    )
    parser.add_argument("--plans", type=int, default=10, help="plans in the region master")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each contender")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "peers")
    parser.add_argument(
        "--only", type=parse_rows, default=list(ROWS), help=f"some of {','.join(ROWS)}"
    )
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.repeats < 1 or args.plans < 1:
        parser.error("--scale must be positive, --repeats and --plans at least 1")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    from importlib.metadata import version

    import reportlab
    import typst  # noqa: F401  (the bench extra: fail here, not halfway through)

    print(
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, CPython "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, ReportLab "
        f"{reportlab.Version}, Typst (PyPI typst) {version('typst')}; scale {args.scale}, "
        f"{args.repeats} repeats, contenders alternating",
        flush=True,
    )
    FIGURES["settings"] = {"scale": args.scale, "plans": args.plans, "repeats": args.repeats}
    if "pack" in args.only:
        row_pack(out, args.scale, args.repeats)
    region = None
    if "bundle" in args.only or "check" in args.only:
        region = build_region(out, args.scale, args.plans)
    if "bundle" in args.only and region is not None:
        row_bundle(out, region, args.repeats)
    if "xlsx" in args.only:
        row_xlsx(out, args.scale, args.repeats)
    if "startup" in args.only:
        row_startup(out, args.repeats)
    if "check" in args.only and region is not None:
        row_check(region, args.repeats)
    (out / "peers.json").write_text(json.dumps(FIGURES, indent=2, default=str) + "\n")
    print(f"figures written to {out / 'peers.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
