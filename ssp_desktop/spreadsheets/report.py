"""An import's preview as plain text, for the command line (and logs)."""

from __future__ import annotations

from ssp_desktop.spreadsheets.importing import Prepared
from ssp_desktop.spreadsheets.mapping import describe_mapping
from ssp_desktop.spreadsheets.plan import ImportPlan, Outcome

SHOWN = 200  # rows listed per outcome; the counts always cover them all


def preview_text(prepared: Prepared, plan: ImportPlan) -> str:
    table = prepared.table
    lines = [
        f"{table.where}: headings in row {table.header_row}, {len(table.frame):,} rows, "
        f"read as {prepared.kind} for the plan {plan.plan_title!r}.",
        "Columns:",
    ]
    columns = describe_mapping(prepared.kind, table.headers, prepared.columns)
    lines += [f"  {line}" for line in columns]
    for outcome, title in (
        (Outcome.REFUSE, "Refused"),
        (Outcome.UPDATE, "Updated"),
        (Outcome.CREATE, "New"),
    ):
        rows = [r for r in plan.rows if r.outcome is outcome]
        if not rows:
            continue
        lines.append(f"{title} ({len(rows):,}):")
        for row in rows[:SHOWN]:
            detail = f": {row.text}" if row.details and outcome is not Outcome.CREATE else ""
            lines.append(f"  row {row.row} {row.key}{detail}")
        if len(rows) > SHOWN:
            lines.append(f"  ... and {len(rows) - SHOWN:,} more")
    if plan.new_records:
        lines.append("Also made by this import:")
        suggestions = {(u.kind, u.name): u.suggestion for u in plan.unknowns}
        for record in plan.new_records:
            detail = f" ({record.detail})" if record.detail else ""
            close = suggestions.get((record.kind, record.name))
            hint = (
                f" - did you mean {close!r}? To use it, map {record.name!r} to it under "
                f'"{"organisations" if record.kind == "organisation" else "people"}" in a '
                "mapping file (--save-mapping writes one to edit)"
                if close
                else ""
            )
            lines.append(f"  {record.kind} {record.name!r}{detail}{hint}")
    lines += plan.notes
    lines.append(plan.summary())
    return "\n".join(lines)
