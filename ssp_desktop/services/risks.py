"""Risks to the plan's delivery: their rules (the only code that writes them uses these)."""

from __future__ import annotations

from ssp_desktop.domain.records import Risk
from ssp_desktop.services.core import invariant, unique_in

invariant(Risk, "ref")(unique_in("plan_id", "plan", "ref"))
