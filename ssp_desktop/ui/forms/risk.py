"""The risk editor: the plan's optional risk register (likelihood x impact, 1 to 5)."""

from __future__ import annotations

from typing import Any

from ssp_desktop.domain.records import Risk
from ssp_desktop.ui.forms.fields import flag, multiline, reference, text, whole
from ssp_desktop.ui.forms.record_form import RecordForm


class RiskEditor(RecordForm):
    record_class = Risk
    specs = (
        text("Ref", "ref", required=True),
        text("Title", "title", required=True),
        multiline("Description", "description"),
        reference("Priority", "priority_id", "priority"),
        reference("Owner", "owner_person_id", "person"),
        whole("Likelihood", "likelihood", 1, 5, help="1 (rare) to 5 (almost certain)"),
        whole("Impact", "impact", 1, 5, help="1 (minor) to 5 (severe)"),
        multiline("Mitigation", "mitigation"),
        flag("Open", "is_open", help="Untick when the risk is closed"),
    )

    def heading_text(self, record: Any) -> str:
        return f"Risk {record.ref}: {record.title} (score {record.score})"
