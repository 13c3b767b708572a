"""The board pack's second edition, read back from the PDF: what a board member, scrutiny
and the publication team would otherwise frown at (issue 17).

One small plan is built for the module with the awkward cases in it - a withheld value,
a rate and a percentage near their targets, two comparators with significance and a
rank, an action not yet started, more Green actions than the pack lists, a Green action
that is overdue, an award over its stream's allocation, the rest of the council's cover
sheet - and its pack is made once and read back as text, outline and catalogue.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pikepdf
import pypdf
import pytest
from reportlab.graphics.shapes import Drawing, Group, String
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import Polarity, Rag, Unit, UpdateState, ValueStatus
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    BoardPack,
    FundingAllocation,
    FundingAward,
    FundingStream,
    Measure,
)
from ssp_desktop.reports.blocks import (
    Block,
    Figure,
    Furniture,
    Heading,
    KeepTogether,
    Metadata,
    NewPage,
    PackDocument,
    Paragraph,
    Section,
    Table,
    TextStyle,
)
from ssp_desktop.reports.chart import MeasureFacts, Point, build_chart
from ssp_desktop.reports.export import export_pack, prepare_pack
from ssp_desktop.reports.pack import section_order
from ssp_desktop.reports.pack_priorities import _chart_table
from ssp_desktop.reports.pdf_chart import chart_drawing
from ssp_desktop.reports.render import render_pdf
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store
from ssp_desktop.store.integrity import check_store
from tests.factories import mini_plan

Q = Quarter.parse("2023/24 Q2")
FY = FinancialYear(2023)


def _norm(text: str) -> str:
    return " ".join(text.split())


class Read:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.reader = pypdf.PdfReader(path)
        self.pages = [_norm(p.extract_text()) for p in self.reader.pages]
        self.text = " ".join(self.pages)


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample-second-edition")
    store = Store.open(folder / "sample.sqlite", create=True)
    try:
        write_sample(store)
        with store.session() as s:
            pack_id = s.scalars(select(BoardPack.id)).one()
        return export_pack(store, pack_id, folder / "pack.pdf").path
    finally:
        store.close()


@pytest.fixture(scope="module")
def sample_text(sample_pdf: Path) -> str:
    return Read(sample_pdf).text


def _values(tx: services.Transaction, measure: Measure, values: list[float], **kw: object) -> None:
    for n, q in enumerate(Quarter.range(Q.shift(1 - len(values)), Q)):
        services.record_value(tx, measure, q, values[n], status=ValueStatus.FINAL, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Read, uuid.UUID]]:
    folder = tmp_path_factory.mktemp("second-edition")
    store = Store.open(folder / "plan.sqlite", create=True)
    mp = mini_plan(store)
    with store.transaction() as tx:
        # A percentage measure, Amber, with two comparators, significance and a rank.
        pct = tx.get(Measure, mp.measure.id)
        assert pct is not None
        services.edit(
            tx,
            pct,
            name="Residents who feel safe",
            priority_id=mp.priority.id,
            decimals=1,
            tolerance=2.0,
            comparator_names=["GM average", "England"],
        )
        services.set_target(tx, pct, FY, 28.0)
        _values(tx, pct, [25.0, 26.0, 27.0])
        services.record_value(
            tx,
            pct,
            Q,
            26.3,
            status=ValueStatus.FINAL,
            comparators={"GM average": 31.0, "England": 33.5},
            comparator_significant=True,
            rank="3rd of 10 in GM",
        )
        # A rate, Amber, whose unit is its basis.
        rate = services.create(
            tx,
            Measure(
                plan_id=mp.plan.id,
                priority_id=mp.priority.id,
                ref="M02",
                name="Burglary",
                unit=Unit.RATE,
                rate_basis="per 1,000 households",
                decimals=2,
                polarity=Polarity.LOWER_BETTER,
                tolerance=0.1,
            ),
        )
        services.set_target(tx, rate, FY, 6.40)
        _values(tx, rate, [6.2, 6.3, 6.43])
        # A measure whose latest value is withheld by the police, with the reason.
        withheld = services.create(
            tx,
            Measure(
                plan_id=mp.plan.id,
                priority_id=mp.priority.id,
                ref="M03",
                name="Knife crime",
                polarity=Polarity.LOWER_BETTER,
                decimals=0,
            ),
        )
        services.set_target(tx, withheld, FY, 100.0)
        _values(tx, withheld, [150.0, 160.0])  # Red on its older values
        services.record_value(
            tx,
            withheld,
            Q,
            None,
            status=ValueStatus.WITHHELD,
            note="GMP data not validated",
        )
        # A measure that peaked in the middle and is now falling.
        peaked = services.create(
            tx,
            Measure(
                plan_id=mp.plan.id,
                priority_id=mp.priority.id,
                ref="M04",
                name="Hate crimes",
                decimals=0,
            ),
        )
        for n, v in enumerate([169.0, 190.0, 200.0, 195.0, 180.0]):
            services.record_value(tx, peaked, Q.shift(n - 4), v, status=ValueStatus.FINAL)

        # Twelve Green actions (more than the pack lists), one of them overdue.
        first = tx.get(Action, mp.action.id)
        assert first is not None
        actions = [first]
        for n in range(2, 13):
            actions.append(
                services.add_action(
                    tx,
                    mp.area,
                    ref=f"PVP-{n:02d}",
                    title=f"Action number {n}",
                    lead_organisation_id=mp.org.id,
                    start_date=dt.date(2022, 4, 1),
                    due_date=dt.date(2025, 3, 31),
                )
            )
        for a in actions:
            services.write_update(
                tx,
                a,
                Q,
                rag=Rag.GREEN,
                narrative=f"{a.ref} is on track.",
                written_on=dt.date(2023, 10, 5),
                state=UpdateState.ACCEPTED,
            )
        # PVP-01 is due 31 March 2023, not complete: overdue, so an exception.
        services.add_action(
            tx,
            mp.area,
            ref="PVP-20",
            title="Start a new scheme",
            lead_organisation_id=mp.org.id,
            start_date=dt.date(2024, 1, 15),
            due_date=dt.date(2025, 3, 31),
        )

        stream = services.create(
            tx, FundingStream(partnership_id=mp.partnership.id, name="Serious Violence Duty")
        )
        services.create(
            tx, FundingAllocation(stream_id=stream.id, year=FY, amount=Decimal("10000"))
        )
        for project, amount in (("Youth outreach", "7500"), ("Bleed kits", "4000")):
            services.create(
                tx,
                FundingAward(
                    stream_id=stream.id,
                    year=FY,
                    project=project,
                    recipient_name="Stockport Homes",
                    amount=Decimal(amount),
                ),
            )
    pack_id = prepare_pack(store, mp.plan.id, Q, meeting_date=dt.date(2023, 11, 20))
    with store.transaction() as tx:
        bp = tx.get(BoardPack, pack_id)
        assert bp is not None
        services.edit(
            tx,
            bp,
            summary="The plan is mostly on track.\n\nTwo measures are Amber.",
            recommendations="Note the report.",
            agenda_item="7",
            scrutiny_committee="Communities & Housing Scrutiny Committee",
            wards_affected="All wards",
            equality_impact="An equality impact assessment was completed in 2022.",
            background_papers="Safer Stockport Partnership Plan 2022-25",
            forward_plan_ref="CSP/2023/07",
        )
    result = export_pack(store, pack_id, folder / "pack.pdf")
    yield store, Read(result.path), pack_id
    store.close()


def test_a_withheld_value_gives_its_reason_and_is_not_rated_on_an_older_one(
    pack: tuple[Store, Read, uuid.UUID],
) -> None:
    text = pack[1].text
    assert "Withheld: GMP data not validated" in text
    assert "Not rated: latest value withheld" in text
    # Its older values (Red against 100) are not rated silently in its place.
    assert not re.search(r"M03 Knife crime \(Red\)", text)
    # The chart's table and description say so too.
    assert "2023/24 Q2 Withheld Withheld (GMP data not validated)" in text
    assert "No value for 2023/24 Q2: withheld (GMP data not validated)." in text
    assert re.search(r"M03 Knife crime \(Not rated\)", text)


def test_a_withheld_value_needs_its_reason(pack: tuple[Store, Read, uuid.UUID]) -> None:
    store = pack[0]
    with pytest.raises(DomainError, match="withheld"), store.transaction() as tx:
        m = tx.session.query(Measure).filter_by(ref="M03").one()
        services.record_value(tx, m, Q.shift(1), None, status=ValueStatus.WITHHELD)


def test_sentences_keep_units_and_precision(pack: tuple[Store, Read, uuid.UUID]) -> None:
    text = pack[1].text
    assert "26.3% is within tolerance (2.0 percentage points) of the target of 28.0%" in text
    assert (
        "6.43 per 1,000 households is within tolerance (0.10 per 1,000 households) of "
        "the target of 6.40 per 1,000 households" in text
    )
    assert "Burglary (per 1,000 households)" in text  # the scorecard names the basis


def test_every_comparator_with_significance_and_rank(pack: tuple[Store, Read, uuid.UUID]) -> None:
    text = pack[1].text
    assert "GM average 31.0%; England 33.5%" in text
    assert "Statistically significantly lower than GM average" in text
    assert "Ranked 3rd of 10 in GM" in text
    # The chart's data table has a column for each comparator.
    assert re.search(r"Quarter Value Status Target GM average England", text)


def test_an_action_not_started_is_not_a_missing_update(pack: tuple[Store, Read, uuid.UUID]) -> None:
    text = pack[1].text
    tracker_row = re.search(r"PVP-20 Start a new scheme .{0,80}", text)
    assert tracker_row is not None
    assert "Not started" in tracker_row.group(0)
    assert "No update" not in tracker_row.group(0)


def test_achievements_are_counted_beyond_eight_and_exceptions_are_not_achievements(
    pack: tuple[Store, Read, uuid.UUID],
) -> None:
    text = pack[1].text
    start = text.index("Key achievements •")
    achievements = text[start : text.index("Exceptions", start)]
    assert "PVP-01" not in achievements  # overdue: listed under exceptions instead
    assert re.search(r"PVP-01 Fund IDVAs \(Green\)", text)
    listed = re.findall(r"PVP-\d\d Action number \d+:", achievements)
    assert len(listed) == 8
    assert "…and 3 more Green actions: PVP-10, PVP-11, PVP-12" in achievements


def test_chart_descriptions_name_the_peak_and_the_latest_movement(
    pack: tuple[Store, Read, uuid.UUID],
) -> None:
    text = pack[1].text
    assert (
        "rose from 169 to 180 over five quarters, peaking at 200 in 2022/23 Q4. "
        "Most recently it fell from 195 in 2023/24 Q1 to 180 in 2023/24 Q2." in text
    )


def test_no_word_is_broken_in_a_narrow_column(sample_text: str) -> None:
    # Before the second edition these read "Priorit y", "Likelihoo d" and
    # "Superintende nt" in the sample pack's risk register and action trackers.
    for broken in ("Priorit y", "Likelihoo d", "Superintende nt", "GM ave rage"):
        assert broken not in sample_text
    assert "Likelihood" in sample_text and "Superintendent" in sample_text


def test_awards_are_totalled_against_their_allocation(pack: tuple[Store, Read, uuid.UUID]) -> None:
    text = pack[1].text
    assert "Awards against allocations, 2023/24" in text
    assert "Serious Violence Duty £10,000 £11,500 Over by £1,500" in text
    assert (
        "Serious Violence Duty: £11,500 awarded against an allocation of £10,000, over by £1,500"
        in text
    )


def test_the_cover_has_the_councils_fields_and_numbered_paragraphs(
    pack: tuple[Store, Read, uuid.UUID],
) -> None:
    cover = pack[1].pages[0] + " " + pack[1].pages[1]
    for label, value in (
        ("Agenda item", "7"),
        ("Relevant scrutiny committee", "Communities & Housing Scrutiny Committee"),
        ("Forward plan reference", "CSP/2023/07"),
        ("Wards affected", "All wards"),
    ):
        assert f"{label} {value}" in cover
    assert "3. Equality impact 3.1 An equality impact assessment was completed in 2022." in cover
    assert "4. Background papers 4.1 Safer Stockport Partnership Plan 2022-25" in cover
    assert "1. Summary 1.1 The plan is mostly on track. 1.2 Two measures are Amber." in cover
    assert "2. Recommendations 2.1 Note the report." in cover


def test_the_bookmarks_pane_opens(pack: tuple[Store, Read, uuid.UUID]) -> None:
    with pikepdf.open(pack[1].path) as pdf:
        assert pdf.Root.PageMode == pikepdf.Name.UseOutlines


def _text_boxes(drawing: Drawing) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Every label the chart draws with its box on the page (rotation applied)."""
    boxes = []
    for el in drawing.contents:
        if isinstance(el, String):
            boxes.append((el.text, el.getBounds()))
        elif isinstance(el, Group) and any(isinstance(c, String) for c in el.contents):
            text = next(c.text for c in el.contents if isinstance(c, String))
            boxes.append((text, el.getBounds()))
    return boxes


@pytest.mark.parametrize(
    "basis", ["per 1,000 households", "per 100,000 young people aged 10-17 in Stockport"]
)
@pytest.mark.parametrize("height", [160.0, 210.0])
def test_a_long_y_axis_title_runs_through_nothing(basis: str, height: float) -> None:
    quarters = Quarter.range(Q.shift(-7), Q)
    points = {
        q: Point(float(v), comparators={"GM average": v + 3.0, "England": v + 1.0})
        for q, v in zip(quarters, [169, 175, 190, 200, 195, 188, 184, 180], strict=True)
    }
    facts = MeasureFacts(
        "First-time entrants",
        unit=Unit.RATE,
        rate_basis=basis,
        comparator_names=["GM average", "England"],
    )
    drawing = chart_drawing(build_chart(facts, points, {}), 420.0, height=height)
    boxes = _text_boxes(drawing)
    assert any(text.startswith("Rate (") for text, _box in boxes)
    for (a, (ax0, ay0, ax1, ay1)), (b, (bx0, by0, bx1, by1)) in itertools.combinations(boxes, 2):
        overlap = min(ax1, bx1) - max(ax0, bx0) > 2 and min(ay1, by1) - max(ay0, by0) > 2
        assert not overlap, f"{a!r} runs through {b!r}"
    for text, (x0, y0, x1, y1) in boxes:
        assert x0 >= -0.5 and y0 >= -0.5 and x1 <= 420.5 and y1 <= height + 0.5, text


# --------------------------------------------------------------------------- layout


def _layout_pages(blocks: tuple[Block, ...], path: Path) -> list[str]:
    document = PackDocument(
        metadata=Metadata("Layout", "Test", "Layout", ()),
        furniture=Furniture("OFFICIAL", "Board", "Layout"),
        sections=(Section("x", "Layout", blocks),),
    )
    render_pdf(document, path)
    return [_norm(p.extract_text()) for p in pypdf.PdfReader(path).pages]


def _filler(lines: int, notes: int = 0) -> tuple[Block, ...]:
    """Body lines (21.5 points each) and notes (about 40): together they put what
    follows at many heights on the first page's foot."""
    return tuple(Paragraph(f"Filler line {n}.") for n in range(lines)) + tuple(
        Paragraph(f"Filler note {n}.", TextStyle.NOTE) for n in range(notes)
    )


OFFSETS = [(lines, notes) for lines in range(22, 32) for notes in range(3)]


def _rows_table(n: int) -> Table:
    return Table(
        header=(("Ref", "What"),),
        rows=tuple((f"R{k:02d}", f"Row number {k:02d} of the table") for k in range(1, n + 1)),
        widths=(1.0, 4.0),
        caption="Rows",
    )


def test_a_heading_keeps_with_the_start_of_its_table(tmp_path: Path) -> None:
    # Wherever the heading falls, its page also has the table's header and two rows.
    for lines, notes in OFFSETS:
        blocks = (
            Heading("Layout", 1, "h1"),
            *_filler(lines, notes),
            Heading("The table's heading", 2, "h2"),
            _rows_table(12),
        )
        pages = _layout_pages(blocks, tmp_path / f"h{lines}-{notes}.pdf")
        (page,) = [p for p in pages if "The table's heading" in p]
        assert "Row number 01" in page and "Row number 02" in page, lines


def test_no_table_row_stands_alone_on_a_page(tmp_path: Path) -> None:
    for lines, notes in OFFSETS:
        blocks = (Heading("Layout", 1, "h1"), *_filler(lines, notes), _rows_table(9))
        pages = _layout_pages(blocks, tmp_path / f"r{lines}-{notes}.pdf")
        counts = [len(re.findall(r"Row number \d\d", p)) for p in pages]
        assert 1 not in counts, (lines, notes, counts)
        assert sum(counts) == 9


def test_a_short_table_is_never_split(tmp_path: Path) -> None:
    for lines, notes in OFFSETS:
        blocks = (Heading("Layout", 1, "h1"), *_filler(lines, notes), _rows_table(4))
        pages = _layout_pages(blocks, tmp_path / f"s{lines}-{notes}.pdf")
        assert 4 in [len(re.findall(r"Row number \d\d", p)) for p in pages], (lines, notes)


def test_a_pack_stored_before_the_outcomes_section_gets_it_after_the_priorities() -> None:
    old = [{"key": k, "enabled": True} for k in ("cover", "priorities", "funding")]
    keys = [k for k, _e in section_order(old)]
    assert keys.index("outcomes") == keys.index("priorities") + 1
    assert keys.index("cover") < keys.index("priorities") < keys.index("funding")


def test_the_outcomes_section_shows_each_frameworks_outcomes_and_their_measures(
    sample_text: str,
) -> None:
    start = sample_text.index("Outcomes The outcomes of the frameworks")
    part = sample_text[start : sample_text.index("Funding", start)]
    assert "Standing Together" in part
    assert "One Stockport" in part
    # An outcome row: its priorities, its actions and how its measures stand.
    assert re.search(r"GM-\d\d: .{0,300}?(PVP|PSP|ROR).{0,400}?(Green|Amber|Red|Not rated)", part)


def test_short_sections_share_a_page_rather_than_leave_one_near_empty(
    pack: tuple[Store, Read, uuid.UUID],
) -> None:
    # The small plan has no outcome frameworks: its outcomes section is a heading and a
    # note, and the funding section runs on below it.
    (page,) = [p for p in pack[1].pages if "No outcome frameworks are recorded" in p]
    assert "Funding Funding streams available" in page


def test_check_reports_awards_over_their_allocation(pack: tuple[Store, Read, uuid.UUID]) -> None:
    problems = [str(p) for p in check_store(pack[0])]
    assert any(
        "Serious Violence Duty 2023/24: awards total £11,500 against an allocation of "
        "£10,000, over by £1,500" in p
        for p in problems
    ), problems


def test_two_charts_share_a_landscape_page(tmp_path: Path) -> None:
    # Eight quarters and two comparators each, as the benchmark plan's measures have:
    # before the second edition each such chart had a landscape page to itself.
    quarters = Quarter.range(Q.shift(-7), Q)
    facts = MeasureFacts(
        "Residents who feel safe", unit=Unit.PERCENT, comparator_names=["GM average", "England"]
    )
    blocks: list[Block] = []
    for n in range(4):
        points = {
            q: Point(60.0 + k + n, comparators={"GM average": 70.0 - k, "England": 65.0 + k})
            for k, q in enumerate(quarters)
        }
        chart = build_chart(facts, points, {FY: 68.0, FY.next(): 70.0})
        figure = Figure(
            chart=chart, alt=chart.alt_text, caption=chart.title, table=_chart_table(chart)
        )
        blocks.append(KeepTogether((Heading(f"M{n} Feel safe", 1, f"m{n}"), figure)))
    document = PackDocument(
        metadata=Metadata("Layout", "Test", "Layout", ()),
        furniture=Furniture("OFFICIAL", "Board", "Layout"),
        sections=(Section("x", "Charts", tuple(blocks), landscape=True),),
    )
    render_pdf(document, tmp_path / "charts.pdf")
    pages = [_norm(p.extract_text()) for p in pypdf.PdfReader(tmp_path / "charts.pdf").pages]
    assert [p.count("Chart description:") for p in pages] == [2, 2]


def _frame_used(page: pypdf.PageObject) -> float:
    """How far down its frame a page's body text reaches (0 to 1), read from where the
    PDF draws its text (the running header and footer are outside the frame)."""
    from ssp_desktop.reports.render import MARGIN_BOTTOM, MARGIN_TOP

    top = float(page.mediabox.height) - MARGIN_TOP
    lowest = [top]

    def visit(text: str, cm: list[float], tm: list[float], _font: object, _size: float) -> None:
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip() and MARGIN_BOTTOM < y < top:
            lowest.append(y)

    page.extract_text(visitor_text=visit)
    return (top - min(lowest)) / (top - MARGIN_BOTTOM)


def _is_landscape(page: pypdf.PageObject) -> bool:
    return float(page.mediabox.width) > float(page.mediabox.height)


def test_no_near_empty_page_comes_before_a_landscape_page(tmp_path: Path) -> None:
    # A portrait run (an exceptions list, say) that spills a few lines onto a second
    # page, then the landscape tracker: the spill goes on the landscape page, above the
    # tracker, rather than stand alone on a page of its own. Whatever the spill's size.
    for lines in range(34, 46, 2):
        blocks = (
            Heading("Exceptions", 1, "h1"),
            *_filler(lines),
            NewPage(landscape=True),
            Heading("Action tracker", 2, "h2"),
            _rows_table(6),
        )
        path = tmp_path / f"l{lines}.pdf"
        pages = _layout_pages(blocks, path)
        reader = pypdf.PdfReader(path)
        for n, page in enumerate(reader.pages[:-1]):
            if not _is_landscape(page) and _is_landscape(reader.pages[n + 1]):
                assert _frame_used(page) > 0.4, (lines, n, _frame_used(page))
        # Nothing lost, and in reading order: the last filler line before the tracker.
        text = " ".join(pages)
        assert text.index(f"Filler line {lines - 1}.") < text.index("Action tracker")
        assert len(re.findall(r"Row number \d\d", text)) == 6
        (tracker,) = [p for p in reader.pages if "Action tracker" in p.extract_text()]
        assert _is_landscape(tracker)


def test_the_sample_pack_has_no_near_empty_page_before_a_landscape_page(
    sample_pdf: Path,
) -> None:
    reader = pypdf.PdfReader(sample_pdf)
    for n, page in enumerate(reader.pages[:-1]):
        if not _is_landscape(page) and _is_landscape(reader.pages[n + 1]):
            assert _frame_used(page) > 0.4, (n + 1, _frame_used(page))
