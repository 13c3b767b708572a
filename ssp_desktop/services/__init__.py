"""Domain services: the only way to change the store.

One module per aggregate (plan structure, actions and updates, measures and values,
funding, risks, people). Each operation takes an open
:class:`~ssp_desktop.domain.changes.Transaction` and enforces the plan's invariants with
the same message wherever the change comes from (a form, a spreadsheet, a bundle, a
conflict decision, the sample writer or undo).
"""

from ssp_desktop.services import (  # noqa: F401 - registers their rules
    authority,
    locks,
    people,
    review,
    risks,
)
from ssp_desktop.services.actions import add_action, write_update
from ssp_desktop.services.core import (
    check_field,
    check_record,
    create,
    create_many,
    delete,
    delete_plan,
    edit,
    restore,
    service,
)
from ssp_desktop.services.funding import set_allocation
from ssp_desktop.services.measures import record_value, set_target
from ssp_desktop.services.plan import start_plan

__all__ = [
    "add_action",
    "check_field",
    "check_record",
    "create",
    "create_many",
    "delete",
    "delete_plan",
    "edit",
    "record_value",
    "restore",
    "service",
    "set_allocation",
    "set_target",
    "start_plan",
    "write_update",
]
