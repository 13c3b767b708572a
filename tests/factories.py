"""Small builders for a minimal plan, so each test states only what it is about."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ssp_desktop import services
from ssp_desktop.domain.enums import Polarity, Unit
from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.domain.records import (
    Action,
    Measure,
    Organisation,
    Partnership,
    Person,
    Plan,
    Priority,
    PriorityArea,
)
from ssp_desktop.store.engine import Store


@dataclass
class MiniPlan:
    partnership: Partnership
    org: Organisation
    person: Person
    plan: Plan
    priority: Priority
    area: PriorityArea
    action: Action
    measure: Measure


def mini_plan(store: Store) -> MiniPlan:
    with store.transaction(actor="test") as tx:
        partnership = services.create(tx, Partnership(name="Test CSP", area="Testshire"))
        org = services.create(
            tx,
            Organisation(partnership_id=partnership.id, name="Police", responsible_authority=True),
        )
        person = services.create(
            tx, Person(partnership_id=partnership.id, name="Superintendent", organisation_id=org.id)
        )
        plan = services.create(
            tx,
            Plan(
                partnership_id=partnership.id,
                title="Plan 2022-25",
                start_year=FinancialYear(2022),
                end_year=FinancialYear(2024),
            ),
        )
        priority = services.create(
            tx, Priority(plan_id=plan.id, code="PVP", title="Vulnerable people")
        )
        area = services.create(tx, PriorityArea(priority_id=priority.id, title="Domestic abuse"))
        action = services.add_action(
            tx,
            area,
            ref="PVP-01",
            title="Fund IDVAs",
            lead_organisation_id=org.id,
            lead_person_id=person.id,
            start_date=dt.date(2022, 4, 1),
            due_date=dt.date(2023, 3, 31),
        )
        measure = services.create(
            tx,
            Measure(
                plan_id=plan.id,
                ref="M01",
                name="Feel safe",
                unit=Unit.PERCENT,
                polarity=Polarity.HIGHER_BETTER,
                comparator_names=["GM average"],
            ),
        )
    return MiniPlan(partnership, org, person, plan, priority, area, action, measure)
