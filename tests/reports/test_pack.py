"""The board pack PDF, read back: what a board member, a screen reader and an auditor see.

The sample plan's pack is built once for the module (it takes a couple of seconds);
the other tests build small packs from a minimal plan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import Rag, UpdateState
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    DEFAULT_PACK_SECTIONS,
    BoardPack,
    Measure,
    PackExport,
    Priority,
)
from ssp_desktop.progress import Cancelled, Progress
from ssp_desktop.queries.performance import Standing, scorecard
from ssp_desktop.reports import fonts
from ssp_desktop.reports.blocks import Figure, Heading, Role, Table
from ssp_desktop.reports.export import (
    ExportError,
    ExportResult,
    export_pack,
    pack_document,
    prepare_pack,
)
from ssp_desktop.reports.pack import assemble_pack, scorecard_cells, section_order
from ssp_desktop.reports.render import STANDING_COLOURS, build_story, contrast_ratio
from ssp_desktop.sample.plan import SAMPLE_BANNER, SAMPLE_QUARTER, write_sample
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q = Quarter.parse("2023/24 Q2")


def _outline_items(items: list[object]) -> Iterator[object]:
    for item in items:
        if isinstance(item, list):
            yield from _outline_items(item)
        else:
            yield item


def _norm(text: str) -> str:
    return " ".join(text.split())


class Pdf:
    """A PDF read back: its text per page (whitespace normalised), outline, metadata."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reader = pypdf.PdfReader(path)
        self.pages = [_norm(p.extract_text()) for p in self.reader.pages]
        self.text = " ".join(self.pages)

    def outline(self) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []

        def walk(items: list[object], depth: int) -> None:
            for item in items:
                if isinstance(item, list):
                    walk(item, depth + 1)
                else:
                    out.append((depth, str(item.title)))  # type: ignore[attr-defined]

        walk(self.reader.outline, 0)
        return out

    def fonts(self) -> dict[str, object]:
        found: dict[str, object] = {}

        def visit(resources: object) -> None:
            if resources is None:
                return
            res = resources.get_object()  # type: ignore[attr-defined]
            for font in (res.get("/Font") or {}).values():
                font = font.get_object()
                found[str(font["/BaseFont"])] = font
            for xobject in (res.get("/XObject") or {}).values():
                visit(xobject.get_object().get("/Resources"))

        for page in self.reader.pages:
            visit(page.get("/Resources"))
        return found


@pytest.fixture(scope="module")
def sample(
    tmp_path_factory: pytest.TempPathFactory, module_store_location: Path | str
) -> Iterator[tuple[Store, ExportResult]]:
    """The sample plan's pack, exported once per engine (the store on SQLite, then on
    PostgreSQL: the same pack either way)."""
    folder = tmp_path_factory.mktemp("sample-pack")
    store = Store.open(module_store_location, create=True)
    write_sample(store)
    with store.session() as s:
        pack_id = s.scalars(select(BoardPack.id)).one()
    result = export_pack(store, pack_id, folder / "pack.pdf")
    yield store, result
    store.close()


@pytest.fixture(scope="module")
def sample_pdf(sample: tuple[Store, ExportResult]) -> Pdf:
    return Pdf(sample[1].path)


# --------------------------------------------------------------------------- sample


def test_the_cover_sheet_follows_the_council_format(
    sample: tuple[Store, ExportResult], sample_pdf: Pdf
) -> None:
    store, result = sample
    # The summary sheet runs onto a second page since it carries the council's full
    # set of fields (agenda item, scrutiny committee, ...).
    cover = sample_pdf.pages[0] + " " + sample_pdf.pages[1]
    with store.session() as s:
        pack = s.get(BoardPack, result.pack_id)
        assert pack is not None
        for label, value in (
            ("Subject", pack.subject),
            ("Meeting", "SSP Board"),
            ("Date", "21 November 2024"),
            ("Report of", pack.report_of),
            ("Key decision", "No"),
            ("Protective marking", "OFFICIAL"),
            ("Contact officer", pack.contact_officer),
        ):
            assert _norm(f"{label} {value}") in cover
        assert _norm(pack.summary) in cover
        for line in pack.recommendations.splitlines():
            assert _norm(line) in cover
    assert "Report to SSP Board: summary sheet" in cover
    assert "Summary" in cover and "Recommendations" in cover


def test_every_priority_has_its_section_in_plan_order(
    sample: tuple[Store, ExportResult], sample_pdf: Pdf
) -> None:
    store, _ = sample
    with store.session() as s:
        pack = s.scalars(select(BoardPack)).one()
        priorities = s.scalars(
            select(Priority)
            .where(Priority.plan_id == pack.plan_id, Priority.deleted_at.is_(None))
            .order_by(Priority.position)
        ).all()
        titles = [f"{p.code}: {p.title}" for p in priorities]
    outline = [title for depth, title in sample_pdf.outline() if depth == 0]
    assert [t for t in outline if t in titles] == titles
    for title in titles:
        page = next(p for p in sample_pdf.pages if title + " Lead:" in p)
        for part in ("Key achievements", "Exceptions"):
            assert part in page or part in sample_pdf.text
    assert sample_pdf.text.count("Action tracker") >= len(titles)


def test_scorecard_prints_the_stores_figures_with_rag_words(
    sample: tuple[Store, ExportResult], sample_pdf: Pdf
) -> None:
    store, _ = sample
    with store.session() as s:
        pack = s.scalars(select(BoardPack)).one()
        rows = scorecard(s, pack.plan_id, SAMPLE_QUARTER)
    assert rows
    start = next(
        i for i, p in enumerate(sample_pdf.pages) if "Performance scorecard Each measure" in p
    )
    text = " ".join(sample_pdf.pages[start : start + 4])
    position = 0
    for row in rows:
        # Each row's cells appear in order after the previous row's.
        for cell in (
            row.ref,
            row.value_text,
            row.target_text,
            row.standing.word,
            row.direction_text,
        ):
            if not cell:
                continue
            found = text.find(_norm(cell), position)
            assert found >= 0, f"{row.ref}: {cell!r} not found in order"
            position = found
    words = {row.standing.word for row in rows}
    assert {"Red", "Amber", "Green", "Not rated"} <= words


def test_scorecard_cells_are_the_scorecard_rows(sample: tuple[Store, ExportResult]) -> None:
    store, result = sample
    with store.session() as s:
        pack = s.get(BoardPack, result.pack_id)
        assert pack is not None
        rows = scorecard(s, pack.plan_id, SAMPLE_QUARTER)
        document = pack_document(store, result.pack_id).document
    section = next(sec for sec in document.sections if sec.key == "scorecard")
    printed = [r for b in section.blocks if isinstance(b, Table) for r in b.rows]
    assert printed == [scorecard_cells(r) for r in rows]


def test_bookmarks_mirror_the_headings_and_contents_link_to_them(
    sample: tuple[Store, ExportResult], sample_pdf: Pdf
) -> None:
    store, result = sample
    document = pack_document(store, result.pack_id).document
    headings = document.headings()
    assert [(h.level - 1, h.text) for h in headings] == sample_pdf.outline()
    # Headings never skip a level.
    levels = [h.level for h in headings]
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))
    assert levels[0] == 1
    # Every bookmark goes to a page of the pack.
    for item in _outline_items(sample_pdf.reader.outline):
        assert sample_pdf.reader.get_destination_page_number(item) >= 0
    contents = next(
        i for i, p in enumerate(sample_pdf.pages) if p.startswith("Contents") or " Contents " in p
    )
    links = [
        a.get_object()
        for a in sample_pdf.reader.pages[contents].get("/Annots", [])
        if a.get_object().get("/Subtype") == "/Link"
    ]
    assert len(links) >= 10
    assert all(
        link["/Dest"][0] in {p.indirect_reference for p in sample_pdf.reader.pages}
        for link in links
    )
    assert "At a glance" in sample_pdf.pages[contents]


def test_contents_page_numbers_are_the_pages_the_headings_are_on(sample_pdf: Pdf) -> None:
    # The pack is laid out until its contents stop changing and drawn once: the numbers
    # printed must be the final layout's, not an earlier pass's.
    reader = sample_pdf.reader
    bookmarks: dict[str, set[int]] = {}  # a title can recur (each priority's sections)
    for item in _outline_items(reader.outline):
        bookmarks.setdefault(str(item.title), set()).add(
            reader.get_destination_page_number(item) + 1
        )
    checked = 0
    for index, page in enumerate(reader.pages):
        for annot in page.get("/Annots", []):
            link = annot.get_object()
            described = re.fullmatch(r"Go to (.*), page (\d+)", str(link.get("/Contents", "")))
            if described is None or "/Dest" not in link:
                continue
            title, printed = described.group(1), int(described.group(2))
            dest = link["/Dest"][0].idnum
            target = next(
                i for i, p in enumerate(reader.pages) if p.indirect_reference.idnum == dest
            )
            assert printed == target + 1, title
            assert printed in bookmarks[title], title
            assert f"{title}" in sample_pdf.pages[index]
            checked += 1
    assert checked >= 10


def test_metadata_language_and_viewer_preferences(sample_pdf: Pdf) -> None:
    meta = sample_pdf.reader.metadata
    assert meta is not None
    assert meta.title == "Safer Stockport Partnership: board pack, 2024/25 Q2"
    assert meta.author == "Strategy and Performance Team Manager"
    assert meta.subject and "quarterly performance report" in meta.subject
    assert "board pack" in str(meta.get("/Keywords"))
    root = sample_pdf.reader.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])


def test_every_font_is_embedded_and_is_the_shipped_family(sample_pdf: Pdf) -> None:
    found = sample_pdf.fonts()
    assert found
    for name, font in found.items():
        assert "DejaVuSans" in name, name
        descriptor = font["/FontDescriptor"].get_object()  # type: ignore[index]
        assert "/FontFile2" in descriptor, f"{name} is not embedded"


def test_running_header_and_footer_on_every_page(sample_pdf: Pdf) -> None:
    total = len(sample_pdf.pages)
    assert total > 20
    for number, page in enumerate(sample_pdf.pages, start=1):
        assert f"Page {number} of {total}" in page
        assert page.count("OFFICIAL") >= 2
        assert SAMPLE_BANNER in page
        assert "SSP Board, 21 November 2024" in page


def test_wide_tables_get_landscape_pages(sample_pdf: Pdf) -> None:
    for page, text in zip(sample_pdf.reader.pages, sample_pdf.pages, strict=True):
        box = page.mediabox
        if "Ref Measure Period Latest value" in text or "Ref Action Lead Due RAG" in text:
            assert box.width > box.height
        if text.startswith("OFFICIAL SSP Board") or "summary sheet" in text:
            assert box.width < box.height


def test_export_is_recorded_with_its_checksum_and_snapshot(
    sample: tuple[Store, ExportResult],
) -> None:
    store, result = sample
    data = result.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == result.sha256
    assert len(data) == result.size
    with store.session() as s:
        record = s.get(PackExport, result.export_id)
        assert record is not None
        assert (record.sha256, record.size, record.file_name) == (
            result.sha256,
            result.size,
            str(result.path),
        )
        assert record.snapshot_seq == result.snapshot_seq
        assert record.exported_at.date() == dt.datetime.now(dt.UTC).date()
        # The snapshot is the data the pack was made from: the export's own record came after.
        assert result.snapshot_seq < store.revision()


def test_every_flowable_carries_its_role(sample: tuple[Store, ExportResult]) -> None:
    store, result = sample
    document = pack_document(store, result.pack_id).document
    figures = [b for b in document.blocks() if isinstance(b, Figure)]
    assert figures and all(f.alt and f.role is Role.FIGURE for f in figures)
    assert all(t.header for t in document.blocks() if isinstance(t, Table))
    story, _ = build_story(document)
    from reportlab.platypus import CondPageBreak, KeepTogether, PageBreak, Spacer
    from reportlab.platypus.doctemplate import ActionFlowable

    from ssp_desktop.reports.render import SideBySide

    def flat(items: list[object]) -> Iterator[object]:
        for f in items:
            if isinstance(f, KeepTogether):
                yield from flat(f._content)
            elif isinstance(f, SideBySide):
                for column in f.columns:
                    yield from flat(column)
            else:
                yield f

    layout = (Spacer, PageBreak, ActionFlowable, CondPageBreak)
    for f in flat(list(story)):
        if not isinstance(f, layout):
            assert hasattr(f, "ssp_role"), type(f).__name__
    roles = {str(f.ssp_role) for f in flat(list(story)) if hasattr(f, "ssp_role")}
    assert {"H1", "H2", "H3", "P", "L", "Table", "Figure", "TOC"} <= roles
    tables = [f for f in flat(list(story)) if getattr(f, "ssp_role", None) == Role.TABLE]
    assert all(t.ssp_header_rows >= 1 or t.ssp_row_headers for t in tables)


# --------------------------------------------------------------------------- look


def test_rag_words_sit_on_colours_with_enough_contrast() -> None:
    for standing, (background, text) in STANDING_COLOURS.items():
        assert contrast_ratio(background, text) >= 4.5, standing
    assert set(STANDING_COLOURS) == set(Standing)


def test_body_text_is_at_least_11_point() -> None:
    from ssp_desktop.reports.render import _styles

    st = _styles()
    for style in (st.body, st.lead, st.note, st.quote, st.cell, *st.headings.values()):
        assert style.fontSize >= 11
        assert style.fontName.startswith("DejaVuSans")


def test_the_fonts_ship_with_their_licence() -> None:
    folder = fonts.fonts_dir()
    assert (folder / "LICENSE.txt").read_text().count("Bitstream") > 0
    for name in fonts.FILES.values():
        assert (folder / name).stat().st_size > 100_000


# --------------------------------------------------------------------------- small packs


def _pack_for(store: Store, mp: MiniPlan, quarter: Quarter = Q) -> uuid.UUID:
    return prepare_pack(store, mp.plan.id, quarter, meeting_date=dt.date(2023, 11, 20))


def test_a_quarter_without_data_gives_a_pack_that_says_what_is_missing(
    store: Store, tmp_path: Path
) -> None:
    mp = mini_plan(store)
    pack_id = _pack_for(store, mp)
    result = export_pack(store, pack_id, tmp_path / "empty.pdf")
    pdf = Pdf(result.path)
    assert "This summary sheet is incomplete" in pdf.text
    assert "Not given" in pdf.pages[0]
    assert "No summary has been written" in pdf.text
    assert (
        "incomplete: Report of, Summary, Recommendations and Contact officer are not filled in"
        in pdf.pages[0]
    )
    assert "What is missing" in pdf.text
    assert f"no update for {Q.label}" in pdf.text
    assert "No values recorded" in pdf.text or "no value for" in pdf.text
    assert "No funding streams are recorded." in pdf.text
    assert "No open risks are recorded" in pdf.text
    assert SAMPLE_BANNER not in pdf.text
    assert "PVP: Vulnerable people" in [t for _d, t in pdf.outline()]


def test_sections_can_be_switched_off_and_reordered(store: Store, tmp_path: Path) -> None:
    mp = mini_plan(store)
    pack_id = _pack_for(store, mp)
    order = ["funding", "cover", "at_a_glance", "risks"]
    with store.transaction() as tx:
        pack = tx.get(BoardPack, pack_id)
        assert pack is not None
        sections = [{"key": k, "enabled": True} for k in order] + [
            {"key": item["key"], "enabled": False}
            for item in DEFAULT_PACK_SECTIONS
            if item["key"] not in order
        ]
        services.edit(tx, pack, sections=sections)
    pdf = Pdf(export_pack(store, pack_id, tmp_path / "some.pdf").path)
    top = [t for d, t in pdf.outline() if d == 0]
    assert top == [
        "Funding",
        "Report to Board: summary sheet".replace("Board", "TC Board"),
        "At a glance",
        "Risks and forward look",
    ]
    assert "Performance scorecard" not in pdf.text
    assert "Contents" not in top


def test_section_order_keeps_known_keys_and_adds_new_ones() -> None:
    order = section_order([{"key": "risks", "enabled": False}, {"key": "bogus"}])
    assert order[0] == ("risks", False)
    assert [k for k, _ in order[1:]] == [
        item["key"] for item in DEFAULT_PACK_SECTIONS if item["key"] != "risks"
    ]
    assert all(enabled for _k, enabled in order[1:])


def test_cancel_leaves_no_file_and_records_nothing(store: Store, tmp_path: Path) -> None:
    mp = mini_plan(store)
    pack_id = _pack_for(store, mp)
    out = tmp_path / "pack.pdf"
    out.write_bytes(b"the previous pack")
    calls = []

    def on_step(done: int, total: int, text: str) -> None:
        calls.append(text)
        if text.startswith("Drawing"):
            progress.cancel()

    progress = Progress(on_step)
    with pytest.raises(Cancelled):
        export_pack(store, pack_id, out, progress=progress)
    assert out.read_bytes() == b"the previous pack"
    store_files = (
        ["plan.sqlite", "plan.sqlite-shm", "plan.sqlite-wal", "plan.sqlite.lock"]
        if store.path is not None
        else []  # a server store leaves nothing in the folder
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.pdf", *store_files]
    with store.session() as s:
        assert s.scalars(select(PackExport)).all() == []
    assert any(c.startswith("Preparing") for c in calls)


def test_an_unwritable_target_is_refused_before_any_work(store: Store, tmp_path: Path) -> None:
    mp = mini_plan(store)
    pack_id = _pack_for(store, mp)
    with pytest.raises(ExportError, match="does not exist"):
        export_pack(store, pack_id, tmp_path / "no-such-folder" / "pack.pdf")
    with pytest.raises(ExportError, match="is a folder"):
        export_pack(store, pack_id, tmp_path)


def test_prepare_pack_reuses_the_quarters_pack_and_copies_standing_fields(store: Store) -> None:
    mp = mini_plan(store)
    first = _pack_for(store, mp, Q.previous())
    with store.transaction() as tx:
        pack = tx.get(BoardPack, first)
        assert pack is not None
        services.edit(tx, pack, report_of="Head of Community Safety")
        services.edit(tx, pack, protective_marking="OFFICIAL-SENSITIVE")
        services.edit(tx, pack, summary="Last quarter's summary")
    second = prepare_pack(store, mp.plan.id, Q, meeting_date=dt.date(2024, 1, 15))
    assert second != first
    assert prepare_pack(store, mp.plan.id, Q) == second
    assert prepare_pack(store, mp.plan.id, Q, meeting_date=dt.date(2024, 1, 15)) == second
    with store.session() as s:
        pack = s.get(BoardPack, second)
        assert pack is not None
        assert pack.report_of == "Head of Community Safety"
        assert pack.protective_marking == "OFFICIAL-SENSITIVE"
        assert pack.summary == ""


def test_marking_and_charts_follow_the_store(store: Store, tmp_path: Path) -> None:
    mp = mini_plan(store)
    with store.transaction() as tx:
        measure = tx.get(Measure, mp.measure.id)
        action = tx.get(type(mp.action), mp.action.id)
        assert measure is not None and action is not None
        services.set_target(tx, measure, FinancialYear(2023), 50.0)
        for n, q in enumerate(Quarter.range(Q.shift(-3), Q)):
            services.record_value(tx, measure, q, 40.0 + n)
        services.write_update(
            tx,
            action,
            Q,
            rag=Rag.RED,
            narrative="Behind: recruitment delayed.",
            written_on=dt.date(2023, 10, 10),
            state=UpdateState.ACCEPTED,
        )
    pack_id = _pack_for(store, mp)
    with store.transaction() as tx:
        pack = tx.get(BoardPack, pack_id)
        assert pack is not None
        services.edit(tx, pack, protective_marking="OFFICIAL-SENSITIVE")
    pdf = Pdf(export_pack(store, pack_id, tmp_path / "p.pdf").path)
    assert all(page.count("OFFICIAL-SENSITIVE") >= 2 for page in pdf.pages)
    assert "Behind: recruitment delayed." in pdf.text
    assert re.search(r"PVP-01 Fund IDVAs \(Red\)", pdf.text)
    assert "Chart description:" in pdf.text
    with store.session() as s:
        document = assemble_pack(s, pack_id)
    assert any(isinstance(h, Heading) and h.level == 3 for h in document.blocks())


def test_long_lists_of_gaps_are_cut_short() -> None:
    from ssp_desktop.reports.pack_summary import _capped, _refs

    refs = [f"A-{n}" for n in range(30)]
    assert _refs(refs[:3], "the trackers") == "A-0, A-1, A-2"
    assert _refs(refs, "the trackers").endswith("A-23 and 6 more (see the trackers)")
    bullets = _capped([f"item {n}" for n in range(50)])
    assert len(bullets) == 40 and bullets[-1].startswith("…and 11 more")


def _words(n: int, seed: str) -> str:
    """``n`` characters of ordinary prose (with a long unbroken token in it), ending
    in a marker the test looks for."""
    body = (f"{seed} partners met weekly and agreed next steps; " * (n // 40 + 1))[: n - 200]
    return body + " https://example.org/" + "x" * 120 + " END-" + seed.upper()


def test_the_longest_text_the_app_accepts_prints_across_pages(store: Store, tmp_path: Path) -> None:
    """Issue 22: one 1,500-character narrative, a long title or a measure with many
    decimals stopped the pack with a LayoutError; any accepted text must print."""
    from ssp_desktop.domain.records import Action
    from ssp_desktop.domain.validation import MAX_TEXT, MAX_TITLE

    mp = mini_plan(store)
    with store.transaction() as tx:
        action = tx.get(Action, mp.action.id)
        measure = tx.get(Measure, mp.measure.id)
        assert action is not None and measure is not None
        services.edit(
            tx, action, title=_words(MAX_TITLE, "title"), description=_words(MAX_TEXT, "desc")
        )
        services.write_update(
            tx,
            action,
            Q,
            rag=Rag.AMBER,
            narrative=_words(MAX_TEXT, "narr"),
            written_on=dt.date(2023, 9, 1),
            state=UpdateState.ACCEPTED,  # the pack prints accepted updates
        )
        services.edit(tx, measure, name=_words(300, "mname"), decimals=4)
        services.record_value(tx, measure, Q, 99.987654, note=_words(MAX_TEXT, "note"))
    pack_id = _pack_for(store, mp)
    with store.transaction() as tx:
        pack = tx.get(BoardPack, pack_id)
        assert pack is not None
        services.edit(
            tx,
            pack,
            subject=_words(300, "subj"),
            summary=_words(MAX_TEXT, "summ"),
            recommendations=_words(MAX_TEXT, "reco"),
        )
    result = export_pack(store, pack_id, tmp_path / "long.pdf")
    pdf = Pdf(result.path)
    for marker in ("END-NARR", "END-SUMM", "END-RECO", "END-TITLE"):
        assert marker in pdf.text, marker


@pytest.mark.sqlite_only  # writes the raw value into the SQLite file
def test_a_store_with_hundreds_of_decimals_still_prints(store: Store, tmp_path: Path) -> None:
    """A measure's decimals of 400 (now refused; an older store or bundle may hold it)
    stopped the pack with a LayoutError: figures are printed with at most four."""
    import sqlite3

    mp = mini_plan(store)
    with store.transaction() as tx:
        measure = tx.get(Measure, mp.measure.id)
        assert measure is not None
        services.record_value(tx, measure, Q, 12.345678)
    conn = sqlite3.connect(store.path)
    conn.execute("UPDATE measure SET decimals = 400")
    conn.commit()
    conn.close()
    pdf = Pdf(export_pack(store, _pack_for(store, mp), tmp_path / "decimals.pdf").path)
    assert "12.3457" in pdf.text and "12.34567800" not in pdf.text
