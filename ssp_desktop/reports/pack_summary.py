"""The front of the board pack: summary sheet, contents, at a glance, what changed.

The summary sheet follows the council's report format (subject, meeting and date,
report of, key decision, summary, recommendations, contact officer); the other sections
summarise the plan's ratings for the quarter and what moved since the previous one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from ssp_desktop.domain.enums import Polarity
from ssp_desktop.queries.performance import ACTION_STANDINGS, MEASURE_STANDINGS, Counts
from ssp_desktop.queries.quarter_changes import QuarterChanges
from ssp_desktop.reports.blocks import (
    Block,
    BulletList,
    Cell,
    CellValue,
    Contents,
    Fields,
    Heading,
    Paragraph,
    Table,
    TextStyle,
)
from ssp_desktop.reports.pack_context import PackContext
from ssp_desktop.reports.pack_text import (
    NOT_GIVEN,
    SAMPLE_BANNER,
    counts_sentence,
    long_date,
    numbered,
    paragraphs,
    rag_cell,
    short_date,
)


def _plural(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def _num(n: int, *, bold: bool = False) -> Cell:
    return Cell(f"{n:,}", align="right", bold=bold)


def cover_section(ctx: PackContext) -> tuple[Block, ...]:
    pack = ctx.pack
    missing = [
        label
        for label, value in (
            ("Subject", pack.subject),
            ("Report of", pack.report_of),
            ("Summary", pack.summary),
            ("Recommendations", pack.recommendations),
            ("Contact officer", pack.contact_officer),
        )
        if not value.strip()
    ]
    subject = pack.subject.strip() or (
        f"{ctx.plan.title}: quarterly performance report, {ctx.quarter.label}"
    )
    blocks: list[Block] = [
        Paragraph(ctx.partnership.upper() or "COMMUNITY SAFETY PARTNERSHIP", TextStyle.KICKER),
        Heading(f"Report to {ctx.meeting.title}: summary sheet", 1, "sec-cover"),
        Fields(
            (
                ("Subject", subject),
                ("Meeting", ctx.meeting.title),
                ("Date", long_date(ctx.meeting.meeting_date)),
                ("Reporting period", f"{ctx.quarter.label} ({ctx.quarter.months_label})"),
                ("Report of", pack.report_of.strip() or NOT_GIVEN),
                ("Key decision", "Yes" if pack.key_decision else "No"),
                ("Contact officer", " ".join(pack.contact_officer.split()) or NOT_GIVEN),
                ("Protective marking", pack.protective_marking.strip() or "OFFICIAL"),
                ("Agenda item", pack.agenda_item.strip() or NOT_GIVEN),
                ("Relevant scrutiny committee", pack.scrutiny_committee.strip() or NOT_GIVEN),
                ("Forward plan reference", pack.forward_plan_ref.strip() or "Not applicable"),
                ("Wards affected", pack.wards_affected.strip() or "All wards"),
            ),
            caption="The report's subject, meeting, author and status",
        ),
    ]
    if missing:
        blocks.append(
            Paragraph(
                "This summary sheet is incomplete: "
                + _join_words(missing)
                + f" {'is' if len(missing) == 1 else 'are'} not filled in yet. Add "
                + ("it" if len(missing) == 1 else "them")
                + " in the board pack builder before the pack is circulated.",
                TextStyle.NOTE,
            )
        )
    if ctx.is_sample:
        blocks.append(
            Paragraph(
                f"{SAMPLE_BANNER}. This pack is made from the app's built-in sample plan; "
                "its figures and narratives are made up for demonstration.",
                TextStyle.NOTE,
            )
        )
    # Numbered as the council's papers are: "1. Summary", then 1.1, 1.2 ...
    blocks.append(Heading("1. Summary", 2, "cover-summary", in_contents=False))
    blocks += numbered(paragraphs(pack.summary, "No summary has been written for this pack."), 1)
    blocks.append(Heading("2. Recommendations", 2, "cover-recommendations", in_contents=False))
    blocks += numbered(paragraphs(pack.recommendations, "No recommendations have been written."), 2)
    # The council's papers close with these two, numbered on.
    blocks.append(Heading("3. Equality impact", 2, "cover-equality", in_contents=False))
    blocks += numbered(
        paragraphs(
            pack.equality_impact,
            "No equality impact assessment is attached to this report.",
        ),
        3,
    )
    blocks.append(Heading("4. Background papers", 2, "cover-background", in_contents=False))
    blocks += numbered(paragraphs(pack.background_papers, "None."), 4)
    blocks += _provenance(ctx)
    return tuple(blocks)


def _utc(when: dt.datetime) -> str:
    return f"{long_date(when.date())}, {when.astimezone(dt.UTC):%H:%M} UTC"


def _provenance(ctx: PackContext) -> list[Block]:
    """What the pack was made from: the data revision and when it was made, the
    production time and the app version (also in the document's metadata)."""
    p = ctx.provenance
    if p is None:
        return []
    review = (
        "Included, each marked \u201cAwaiting review\u201d"
        if p.include_awaiting_review
        else "Not included: this pack shows accepted updates and values only"
    )
    blocks: list[Block] = [
        Heading("Provenance", 2, "cover-provenance", in_contents=False),
        Fields(
            (
                ("Data revision", str(p.revision)),
                ("Data as at", _utc(p.data_as_at) if p.data_as_at else "No data yet"),
                ("Produced", _utc(p.produced_at)),
                ("App version", f"ssp-desktop {p.app_version}"),
                ("Updates awaiting review", review),
            ),
            caption="The data this pack was made from, when, and with which app version",
        ),
    ]
    if p.plan_as_at is not None:
        blocks.append(
            Paragraph(
                f"This pack reports a past quarter, {ctx.quarter.label}. It shows the plan "
                f"as it stood at the quarter's end ({long_date(p.plan_as_at)}): action "
                "statuses, due dates and the forward look are as at that date, not as at "
                "the production date.",
                TextStyle.NOTE,
            )
        )
    return blocks


def _join_words(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def contents_section(_ctx: PackContext) -> tuple[Block, ...]:
    return (Heading("Contents", 1, "sec-contents", in_contents=False), Contents(depth=2))


def _refs(refs: Sequence[str], where: str, limit: int = 24) -> str:
    """A list of refs, cut short on a big plan (the rest are in ``where``)."""
    if len(refs) <= limit:
        return ", ".join(refs)
    return ", ".join(refs[:limit]) + f" and {len(refs) - limit:,} more (see {where})"


def _capped(items: list[str], limit: int = 40) -> tuple[str, ...]:
    """At most ``limit`` bullets: a big plan's gaps are all in the trackers anyway."""
    if len(items) <= limit:
        return tuple(items)
    more = len(items) - limit + 1
    return (
        *items[: limit - 1],
        f"…and {more:,} more, marked in the action trackers and scorecard.",
    )


def _missing_summary(ctx: PackContext) -> list[str]:
    changes = ctx.changes
    missing = []
    if not ctx.actions:
        missing.append("The plan has no actions yet.")
    elif changes.missing_updates:
        missing.append(
            f"{_plural(len(changes.missing_updates), 'action')} that "
            f"{'has' if len(changes.missing_updates) == 1 else 'have'} started "
            f"{'has' if len(changes.missing_updates) == 1 else 'have'} no update for "
            f"{ctx.quarter.label}: "
            + _refs([c.ref for c in changes.missing_updates], "the action trackers")
            + "."
        )
    if not ctx.rows:
        missing.append("The plan has no measures yet.")
    elif changes.missing_values:
        missing.append(
            f"{_plural(len(changes.missing_values), 'quarterly measure')} "
            f"{'has' if len(changes.missing_values) == 1 else 'have'} no value for "
            f"{ctx.quarter.label}: "
            + _refs([m.ref for m in changes.missing_values], "the scorecard")
            + "."
        )
    untargeted = [
        r.ref for r in ctx.rows if r.polarity is not Polarity.TRACKER and r.target is None
    ]
    if untargeted:
        missing.append(
            f"{_plural(len(untargeted), 'measure')} "
            f"{'has' if len(untargeted) == 1 else 'have'} no target for the year of "
            "its latest value: " + _refs(untargeted, "the scorecard") + "."
        )
    return missing


def _review_note(ctx: PackContext) -> list[Block]:
    """Which counts include figures not yet accepted (only when the builder asked)."""
    if ctx.provenance is None or not ctx.provenance.include_awaiting_review:
        return []
    updates = sum(1 for a in ctx.actions if a.awaiting_review)
    values = sum(1 for r in ctx.rows if r.awaiting_review)
    if not updates and not values:
        return [
            Paragraph(
                "Every update and value in this pack has been accepted by the strategy team.",
                TextStyle.NOTE,
            )
        ]
    return [
        Paragraph(
            f"These counts include {_plural(updates, 'action update')} and "
            f"{_plural(values, 'measure value')} awaiting review: submitted by the leads, "
            "not yet accepted by the strategy team. Each is marked \u201cAwaiting "
            "review\u201d where it is printed.",
            TextStyle.NOTE,
        )
    ]


def at_a_glance_section(ctx: PackContext) -> tuple[Block, ...]:
    perf = ctx.performance
    actions_total = Counts()
    measures_total = Counts()
    for p in perf:
        for s in ACTION_STANDINGS:
            actions_total.by_standing[s] = actions_total[s] + p.actions[s]
        for s in MEASURE_STANDINGS:
            measures_total.by_standing[s] = measures_total[s] + p.measures[s]
    blocks: list[Block] = [
        Heading("At a glance", 1, "sec-at_a_glance"),
        Paragraph(
            f"Where the plan's {_plural(actions_total.total, 'action')} and "
            f"{_plural(measures_total.total, 'measure')} stand for {ctx.quarter.label} "
            f"({ctx.quarter.months_label}). An action is rated by its lead's update for the "
            "quarter; a measure by its latest value against the target for that year.",
            TextStyle.LEAD,
        ),
        BulletList(
            (
                f"Actions: {counts_sentence(actions_total, ACTION_STANDINGS)}.",
                f"Measures: {counts_sentence(measures_total, MEASURE_STANDINGS)}.",
            )
        ),
    ]
    blocks += _review_note(ctx)
    if perf:
        names = [p.code or p.title for p in perf]
        for noun, standings, attr, total in (
            ("Actions", ACTION_STANDINGS, "actions", actions_total),
            ("Measures", MEASURE_STANDINGS, "measures", measures_total),
        ):
            rows: list[tuple[CellValue, ...]] = [
                (
                    rag_cell(s),
                    *(_num(getattr(p, attr)[s]) for p in perf),
                    _num(total[s], bold=True),
                )
                for s in standings
            ]
            rows.append(
                (
                    Cell("Total", bold=True),
                    *(_num(getattr(p, attr).total, bold=True) for p in perf),
                    _num(total.total, bold=True),
                )
            )
            blocks.append(
                Table(
                    header=((noun, *names, "All"),),
                    rows=tuple(rows),
                    widths=(1.6, *([1.0] * len(perf)), 1.0),
                    caption=f"{noun} by RAG rating for each priority, {ctx.quarter.label}",
                    row_headers=True,
                    total_rows=(len(rows) - 1,),
                )
            )
        blocks.append(
            Paragraph(
                "Priorities: " + "; ".join(f"{p.code}: {p.title}" for p in perf if p.code) + "."
            )
        )
    else:
        blocks.append(Paragraph("The plan has no priorities yet.", TextStyle.NOTE))
    missing = _missing_summary(ctx)
    blocks.append(Heading("What is missing", 2, "glance-missing"))
    if missing:
        blocks.append(BulletList(tuple(missing)))
    else:
        blocks.append(
            Paragraph(
                f"Nothing: every started action has an update and every quarterly measure "
                f"has a value for {ctx.quarter.label}."
            )
        )
    return tuple(blocks)


def _change_table(changes: Sequence[Any], caption: str, *, measures: bool = False) -> Table:
    header: tuple[CellValue, ...] = (
        "Ref",
        "Measure" if measures else "Action",
        "Before",
        "Now",
    )
    rows = tuple(
        (
            c.ref,
            c.name if measures else c.title,
            rag_cell(c.before),
            rag_cell(c.after),
        )
        for c in changes
    )
    return Table(
        header=(header,),
        rows=rows,
        widths=(1.3, 5.4, 1.5, 1.5),
        caption=caption,
    )


def revised_part(ctx: PackContext) -> list[Block]:
    """ "Revised since the last published pack": corrections of locked figures, with
    what, old, new, reason and who (nothing before any pack has been published)."""
    revisions = ctx.revisions
    published = revisions.published
    if published is None:
        return []
    title = "Revised since the last published pack"
    since = (
        f"the {published.quarter_label} pack ({published.meeting}), published on "
        f"{long_date(published.published_at.date())} by {published.published_by}"
    )
    if not revisions.items:
        return [
            Heading(title, 2, "changes-revised", in_contents=False),
            Paragraph(f"No published figure has been revised since {since}."),
        ]
    return [
        Heading(title, 2, "changes-revised", in_contents=False),
        Paragraph(
            f"Published figures corrected since {since}. Each correction was made with "
            "the reason given here, and the change log keeps the old value."
        ),
        Table(
            header=(("What", "Old", "New", "Reason", "Who", "When"),),
            rows=tuple(
                (r.what, r.old, r.new, r.reason, r.who, short_date(r.when.date()))
                for r in revisions.items
            ),
            widths=(2.4, 2.0, 2.0, 2.4, 1.4, 1.2),
            caption="Published figures revised since the last published pack",
        ),
    ]


def changes_section(ctx: PackContext) -> tuple[Block, ...]:
    ch = ctx.changes
    prev, q = ch.previous.label, ch.quarter.label
    blocks: list[Block] = [
        Heading(f"What changed since {prev}", 1, "sec-changes"),
        Paragraph(
            f"The plan as at {q} compared with {prev}: ratings that moved, due dates that "
            "moved or passed, and updates and values still missing.",
            TextStyle.LEAD,
        ),
    ]

    blocks += revised_part(ctx)
    quiet: list[str] = []

    def part(title: str, anchor: str, items: Sequence[Any], make: Callable[[], Block]) -> None:
        # Parts with nothing in them are named together at the end, in one sentence.
        if not items:
            quiet.append(title[0].lower() + title[1:])
            return
        blocks.append(Heading(title, 2, anchor, in_contents=False))
        blocks.append(make())

    new_reds = [*ch.new_red_actions]
    part(
        "New Red ratings: actions",
        "changes-new-red-actions",
        new_reds,
        lambda: _change_table(new_reds, f"Actions newly rated Red in {q}"),
    )
    part(
        "New Red ratings: measures",
        "changes-new-red-measures",
        ch.new_red_measures,
        lambda: _change_table(ch.new_red_measures, f"Measures newly Red in {q}", measures=True),
    )
    improved = [*ch.improved_actions]
    part(
        "Improvements",
        "changes-improved",
        [*improved, *ch.improved_measures],
        lambda: _improvements(improved, ch),
    )
    part(
        "Deteriorations (not Red)",
        "changes-worsened",
        [*ch.worsened_actions, *ch.worsened_measures],
        lambda: _worsened(ch),
    )
    dates = [*ch.moved_due_dates, *ch.missed_due_dates]
    part(
        "Due dates moved or missed",
        "changes-due-dates",
        dates,
        lambda: Table(
            header=(("Ref", "Action", "Was due", "Now due", "What happened"),),
            rows=tuple(
                (
                    c.ref,
                    c.title,
                    short_date(c.old_due),
                    short_date(c.new_due) if c.changed_on else "",
                    f"Moved later on {short_date(c.changed_on)}"
                    if c.changed_on
                    else f"Due in {q}, not complete",
                )
                for c in dates
            ),
            widths=(1.3, 4.0, 1.6, 1.6, 2.4),
            caption=f"Actions whose due date moved later, or passed in {q} without completion",
        ),
    )
    missing = [*ch.missing_updates]
    part(
        "Missing updates",
        "changes-missing-updates",
        [*missing, *ch.missing_values],
        lambda: BulletList(
            _capped(
                [f"{c.ref} {c.title}: no update for {q}." for c in missing]
                + [
                    f"{m.ref} {m.name}: no value for {q}"
                    + (
                        f" (latest {m.last_period.label})."
                        if m.last_period
                        else " (no values yet)."
                    )
                    for m in ch.missing_values
                ]
            )
        ),
    )
    if quiet:
        # Said in the opening paragraph rather than under headings of their own.
        lead = blocks[1]
        assert isinstance(lead, Paragraph)
        blocks[1] = Paragraph(
            f"{lead.text} Nothing to report this quarter under: {'; '.join(quiet)}.",
            lead.style,
        )
    return tuple(blocks)


def _improvements(actions: Sequence[Any], ch: QuarterChanges) -> Block:
    rows = [(c.ref, c.title, rag_cell(c.before), rag_cell(c.after)) for c in actions]
    rows += [(c.ref, c.name, rag_cell(c.before), rag_cell(c.after)) for c in ch.improved_measures]
    return Table(
        header=(("Ref", "Action or measure", "Before", "Now"),),
        rows=tuple(rows),
        widths=(1.3, 5.4, 1.5, 1.5),
        caption=f"Actions and measures whose rating improved in {ch.quarter.label}",
    )


def _worsened(ch: QuarterChanges) -> Block:
    rows = [(c.ref, c.title, rag_cell(c.before), rag_cell(c.after)) for c in ch.worsened_actions]
    rows += [(c.ref, c.name, rag_cell(c.before), rag_cell(c.after)) for c in ch.worsened_measures]
    return Table(
        header=(("Ref", "Action or measure", "Before", "Now"),),
        rows=tuple(rows),
        widths=(1.3, 5.4, 1.5, 1.5),
        caption=f"Actions and measures whose rating fell, but not to Red, in {ch.quarter.label}",
    )
