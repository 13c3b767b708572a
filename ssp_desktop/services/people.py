"""The partnership, its organisations and people: their rules."""

from __future__ import annotations

from ssp_desktop.domain.records import Organisation
from ssp_desktop.services.core import invariant, unique_in

invariant(Organisation, "name")(unique_in("partnership_id", "partnership", "name"))
