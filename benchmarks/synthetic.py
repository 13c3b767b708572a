"""Deterministic synthetic plan data at region scale, written through the real domain API.

The shape is Greater Manchester's: ten Community Safety Partnerships, each with one
three-year plan of three priorities and four areas for action per priority, 500 actions
per plan with partner agencies and four quarterly updates each, and 50 measures per plan
with ten years (40 quarters) of values, comparator values (GM average, England) and
yearly targets. :meth:`Shape.scaled` multiplies the action and measure counts.

Everything goes through :class:`~ssp_desktop.store.engine.Store.transaction` and the
functions of :mod:`ssp_desktop.services` (``add_action``, ``write_update``,
``record_value``, ``set_target``, and ``create`` for the partnership, its people and the
plan's structure), so every rule is checked and the change log is written exactly as in
real use, under the write guard.
Writes are batched: one transaction for each plan's skeleton, then one per
``actions_per_transaction`` actions and one per ``measures_per_transaction`` measures,
with a flush every ``flush_every`` records, so memory stays bounded however big the
region is.

Content comes from ``random.Random`` seeded per plan, so a plan's text and figures are
the same on every run (and plan 0 can be rebuilt alone for the memory pass). The ids of
action updates and change-log rows are made by the package itself (``uuid4``), as in
real use, so they differ between runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ssp_desktop import services
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import (
    ActionStatus,
    Frequency,
    PlanStatus,
    Polarity,
    Rag,
    ToleranceMode,
    Unit,
    UpdateState,
    ValueStatus,
)
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    ActionPartner,
    Measure,
    Organisation,
    Partnership,
    Person,
    Plan,
    Priority,
    PriorityArea,
)
from ssp_desktop.store.engine import Store

ACTOR = "benchmark"

R = TypeVar("R", bound=Record)

BOROUGHS = (
    "Bolton",
    "Bury",
    "Manchester",
    "Oldham",
    "Rochdale",
    "Salford",
    "Stockport",
    "Tameside",
    "Trafford",
    "Wigan",
)

# (name template, short name, sector, statutory responsible authority)
ORGANISATIONS = (
    ("{b} Council", "Council", "Local authority", True),
    ("Greater Manchester Police ({b} district)", "GMP", "Police", True),
    ("Greater Manchester Fire and Rescue Service ({b})", "GMFRS", "Fire and rescue", True),
    ("Probation Service ({b})", "Probation", "Probation", True),
    ("NHS Greater Manchester ({b} locality)", "NHS GM", "Health", True),
    ("{b} Youth Justice Service", "YJS", "Youth justice", False),
    ("{b} Homes", "Homes", "Housing", False),
    ("Victim Support ({b})", "VS", "Voluntary sector", False),
    ("{b} Council for Voluntary Service", "CVS", "Voluntary sector", False),
    ("Greater Manchester Combined Authority ({b} link)", "GMCA", "Combined authority", False),
    ("Department for Work and Pensions ({b})", "DWP", "Central government", False),
    ("{b} Schools Partnership", "Schools", "Education", False),
)

ROLES = (
    "Community Safety Manager",
    "Neighbourhood Inspector",
    "Station Manager",
    "Head of Probation Delivery Unit",
    "Safeguarding Lead",
    "Youth Justice Manager",
    "Domestic Abuse Coordinator",
    "Public Health Consultant",
    "Housing Services Manager",
    "Partnership Analyst",
)

THEMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "PVP": (
        "Protecting vulnerable people",
        (
            "Domestic abuse",
            "Child exploitation",
            "Modern slavery",
            "Adults at risk",
            "Hate crime",
            "Fraud against older people",
        ),
    ),
    "RCH": (
        "Reducing crime and harm",
        (
            "Serious violence",
            "Knife crime",
            "Drugs and alcohol",
            "Burglary",
            "Vehicle crime",
            "Organised crime",
        ),
    ),
    "SSC": (
        "Safer, stronger communities",
        (
            "Anti-social behaviour",
            "Community cohesion",
            "Road safety",
            "Night-time economy",
            "Environmental crime",
            "Prevent",
        ),
    ),
    "ROF": (
        "Reducing reoffending",
        (
            "Integrated offender management",
            "Youth diversion",
            "Accommodation on release",
            "Employment and skills",
            "Restorative justice",
            "Women's services",
        ),
    ),
    "VAW": (
        "Violence against women and girls",
        (
            "Safety in public spaces",
            "Stalking and harassment",
            "Sexual violence",
            "Healthy relationships education",
            "Perpetrator programmes",
            "Honour-based abuse",
        ),
    ),
}

VERBS = (
    "Deliver",
    "Develop",
    "Review",
    "Commission",
    "Roll out",
    "Evaluate",
    "Extend",
    "Map",
    "Establish",
    "Pilot",
    "Refresh",
    "Embed",
)
OBJECTS = (
    "a multi-agency response to",
    "training for frontline staff on",
    "a communications campaign about",
    "data sharing arrangements for",
    "a referral pathway for",
    "the partnership's approach to",
    "an early-help offer on",
    "targeted patrols addressing",
    "a victim-centred service for",
    "community engagement on",
)
WARDS = (
    "the town centre",
    "the northern wards",
    "the southern wards",
    "priority neighbourhoods",
    "the borough",
    "schools and colleges",
    "the night-time economy",
    "social housing estates",
)
DESCRIPTION = (
    "Partners will agree a shared plan, named leads and a timetable for {area}.",
    "The work builds on the findings of last year's strategic assessment.",
    "Delivery will be reported to the partnership board each quarter.",
    "Residents and victims will be consulted on the design of the service.",
    "Funding comes from the Community Safety Grant and partner contributions.",
    "Success will be judged against the measures linked to this priority.",
)
NARRATIVE = (
    "{n} referrals were received this quarter for {area}.",
    "The task and finish group met {k} times and agreed next steps.",
    "Training was delivered to {n} frontline staff across partner agencies.",
    "Data sharing with {partner} is now in place and working well.",
    "Delivery has slipped because of staff vacancies; a recovery plan is agreed.",
    "The evaluation report is due to the board next quarter.",
    "Feedback from residents has been positive, with {k} community events held.",
    "A new coordinator started in post and is reviewing the caseload.",
    "Performance is on track against the milestones in the delivery plan.",
    "Some activity was paused during the summer; it restarts next quarter.",
    "Joint patrols with {partner} covered {k} hotspot locations.",
    "Case reviews identified {k} lessons, now reflected in the pathway.",
)

# (name, unit, polarity, data source)
MEASURES = (
    (
        "Residents who feel safe in their local area",
        Unit.PERCENT,
        Polarity.HIGHER_BETTER,
        "Resident survey",
    ),
    ("Domestic abuse incidents reported", Unit.COUNT, Polarity.TRACKER, "GMP"),
    ("Repeat victims of domestic abuse", Unit.PERCENT, Polarity.LOWER_BETTER, "MARAC"),
    ("Knife crime offences per 1,000 population", Unit.RATE, Polarity.LOWER_BETTER, "GMP"),
    ("Anti-social behaviour incidents", Unit.COUNT, Polarity.LOWER_BETTER, "GMP"),
    ("Young people entering the youth justice system", Unit.COUNT, Polarity.LOWER_BETTER, "YJS"),
    ("Proven reoffending rate (adults)", Unit.PERCENT, Polarity.LOWER_BETTER, "MoJ"),
    ("Hate crimes reported", Unit.COUNT, Polarity.TRACKER, "GMP"),
    ("Drug treatment completions", Unit.PERCENT, Polarity.HIGHER_BETTER, "OHID"),
    ("Residential burglaries per 1,000 households", Unit.RATE, Polarity.LOWER_BETTER, "GMP"),
    ("Deliberate fires", Unit.COUNT, Polarity.LOWER_BETTER, "GMFRS"),
    ("Victims satisfied with the service", Unit.PERCENT, Polarity.HIGHER_BETTER, "Victim Support"),
)
COMPARATORS = ("GM average", "England")


@dataclass(frozen=True)
class Shape:
    """How much to write. The defaults are one Greater Manchester-sized region."""

    plans: int = 10
    priorities_per_plan: int = 3
    areas_per_priority: int = 4
    actions_per_plan: int = 500
    updates_per_action: int = 4
    measures_per_plan: int = 50
    quarters_per_measure: int = 40
    organisations_per_partnership: int = len(ORGANISATIONS)
    people_per_partnership: int = 20

    @classmethod
    def scaled(cls, scale: float, *, plans: int = 10) -> Shape:
        """The region shape with the action and measure counts multiplied by ``scale``.

        Updates per action and quarters per measure are fixed, so update and value
        counts scale with them; the number of plans is set separately.
        """
        base = cls()
        return cls(
            plans=plans,
            actions_per_plan=max(1, round(base.actions_per_plan * scale)),
            measures_per_plan=max(1, round(base.measures_per_plan * scale)),
        )

    @property
    def actions(self) -> int:
        return self.plans * self.actions_per_plan

    @property
    def updates(self) -> int:
        return self.actions * self.updates_per_action

    @property
    def measures(self) -> int:
        return self.plans * self.measures_per_plan

    @property
    def values(self) -> int:
        return self.measures * self.quarters_per_measure


@dataclass(frozen=True)
class Batching:
    """How writes are grouped into transactions and flushes."""

    actions_per_transaction: int = 100
    measures_per_transaction: int = 10
    flush_every: int = 250


@dataclass
class BuildResult:
    """What a build wrote and how long each kind of write took."""

    plan_ids: list[uuid.UUID] = field(default_factory=list)
    # Records written, by table (change-log rows are counted from the store).
    records: Counter[str] = field(default_factory=Counter)
    transactions: int = 0
    flushes: int = 0
    seconds: float = 0.0
    phase_seconds: dict[str, float] = field(
        default_factory=lambda: {"skeleton": 0.0, "actions": 0.0, "values": 0.0}
    )

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


@dataclass(frozen=True)
class _Skeleton:
    """Ids of one plan's fixed structure, carried from its first transaction to the rest."""

    plan_id: uuid.UUID
    organisation_ids: tuple[uuid.UUID, ...]
    person_ids: tuple[uuid.UUID, ...]
    priority_ids: tuple[uuid.UUID, ...]
    codes: tuple[str, ...]
    area_ids: tuple[uuid.UUID, ...]  # priority-major order
    area_titles: tuple[str, ...]
    measure_ids: tuple[uuid.UUID, ...]


PlanDone = Callable[[int, BuildResult], None]


class RegionWriter:
    """Writes the synthetic region into a store, one plan at a time."""

    def __init__(
        self,
        store: Store,
        shape: Shape,
        *,
        seed: int = 20261122,
        batching: Batching | None = None,
    ) -> None:
        self.store = store
        self.shape = shape
        self.seed = seed
        self.batching = batching or Batching()
        self.result = BuildResult()
        self._pending = 0
        # Set per plan: a plan's content does not depend on the plans before it.
        self.rng = random.Random(seed)

    # -- driving ---------------------------------------------------------------------

    def build(self, on_plan_done: PlanDone | None = None) -> BuildResult:
        """Write every plan of the shape; returns counts and timings."""
        start = time.perf_counter()
        for index in range(self.shape.plans):
            self.write_plan(index)
            self.result.seconds = time.perf_counter() - start
            if on_plan_done is not None:
                on_plan_done(index, self.result)
        self.result.seconds = time.perf_counter() - start
        return self.result

    def write_plan(self, index: int) -> uuid.UUID:
        """Write plan ``index`` (its partnership, people, structure, actions, measures)."""
        self.rng = random.Random(f"{self.seed}/plan/{index}")
        timer = time.perf_counter()
        skeleton = self._write_skeleton(index)
        self._lap("skeleton", timer)

        timer = time.perf_counter()
        per_tx = self.batching.actions_per_transaction
        for first in range(0, self.shape.actions_per_plan, per_tx):
            count = min(per_tx, self.shape.actions_per_plan - first)
            self._write_actions(skeleton, first, count)
        self._lap("actions", timer)

        timer = time.perf_counter()
        per_tx = self.batching.measures_per_transaction
        for first in range(0, len(skeleton.measure_ids), per_tx):
            self._write_values(skeleton.measure_ids[first : first + per_tx])
        self._lap("values", timer)

        self.result.plan_ids.append(skeleton.plan_id)
        return skeleton.plan_id

    # -- helpers ---------------------------------------------------------------------

    def _lap(self, phase: str, since: float) -> None:
        self.result.phase_seconds[phase] += time.perf_counter() - since

    def _new_id(self) -> uuid.UUID:
        # Ids are made where the record is made (DESIGN.md section 2); seeded here so a
        # plan's records have the same ids on every run.
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _count(self, obj: Record) -> None:
        self.result.records[type(obj).__tablename__] += 1
        self._pending += 1

    def _add(self, tx: Transaction, obj: Record) -> None:
        services.create(tx, obj)
        self._count(obj)
        self._maybe_flush(tx)

    def _maybe_flush(self, tx: Transaction) -> None:
        if self._pending >= self.batching.flush_every:
            self._flush(tx)

    def _flush(self, tx: Transaction) -> None:
        # Parents are flushed before children are added: the mappings declare few
        # relationships, so the ORM cannot always order a mixed flush by foreign key.
        tx.flush()
        self.result.flushes += 1
        self._pending = 0

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Transaction]:
        self.result.transactions += 1
        self._pending = 0
        with self.store.transaction(actor=ACTOR) as tx:
            yield tx
        self._pending = 0

    def _sentences(self, pool: Sequence[str], count: int, **values: str) -> str:
        chosen = self.rng.sample(pool, count)
        return " ".join(
            s.format(n=self.rng.randint(3, 250), k=self.rng.randint(2, 12), **values)
            for s in chosen
        )

    # -- the plan's structure --------------------------------------------------------

    def _write_skeleton(self, index: int) -> _Skeleton:
        rng = self.rng
        shape = self.shape
        borough = BOROUGHS[index % len(BOROUGHS)]
        if index >= len(BOROUGHS):
            borough = f"{borough} {index // len(BOROUGHS) + 1}"
        start_year = FinancialYear(2023)
        with self._transaction() as tx:
            partnership = Partnership(
                id=self._new_id(),
                name=f"Safer {borough} Partnership",
                area=f"{borough}, Greater Manchester",
                description=f"The statutory Community Safety Partnership for {borough}.",
            )
            self._add(tx, partnership)
            self._flush(tx)

            organisations: list[Organisation] = []
            for i in range(shape.organisations_per_partnership):
                name, short, sector, statutory = ORGANISATIONS[i % len(ORGANISATIONS)]
                suffix = f" {i // len(ORGANISATIONS) + 1}" if i >= len(ORGANISATIONS) else ""
                org = Organisation(
                    id=self._new_id(),
                    partnership_id=partnership.id,
                    name=name.format(b=borough) + suffix,
                    short_name=short + suffix,
                    sector=sector,
                    responsible_authority=statutory,
                )
                organisations.append(org)
                self._add(tx, org)
            plan = Plan(
                id=self._new_id(),
                partnership_id=partnership.id,
                title=f"{borough} Community Safety Plan",
                start_year=start_year,
                end_year=FinancialYear(start_year.start + 2),
                status=PlanStatus.APPROVED,
                in_force_from=start_year.start_date,
                vision=f"A safer {borough} where everyone feels safe at home and in public.",
                summary="Three strategic priorities agreed by the partnership board.",
            )
            self._add(tx, plan)
            self._flush(tx)

            people: list[Person] = []
            for i in range(shape.people_per_partnership):
                org = organisations[i % len(organisations)]
                person = Person(
                    id=self._new_id(),
                    partnership_id=partnership.id,
                    name=f"{org.short_name} officer {i + 1:02d}",
                    role_title=rng.choice(ROLES),
                    organisation_id=org.id,
                    email=f"officer{i + 1:02d}@{borough.lower().replace(' ', '-')}.example.org",
                )
                people.append(person)
                self._add(tx, person)
            self._flush(tx)

            codes = sorted(rng.sample(sorted(THEMES), min(shape.priorities_per_plan, len(THEMES))))
            codes += [f"P{i + 1}" for i in range(len(codes), shape.priorities_per_plan)]
            priorities: list[Priority] = []
            for position, code in enumerate(codes):
                title, _areas = THEMES.get(code, (f"Priority {code}", ()))
                priority = Priority(
                    id=self._new_id(),
                    plan_id=plan.id,
                    code=code,
                    title=title,
                    description=f"What the partnership will do about {title.lower()}.",
                    lead_person_id=rng.choice(people).id,
                    position=position,
                )
                priorities.append(priority)
                self._add(tx, priority)
            self._flush(tx)

            areas: list[PriorityArea] = []
            for priority, code in zip(priorities, codes, strict=True):
                pool = list(THEMES.get(code, ("", ("Area",)))[1])
                picked = rng.sample(pool, min(len(pool), shape.areas_per_priority))
                picked += [f"Area {i + 1}" for i in range(len(picked), shape.areas_per_priority)]
                for position, title in enumerate(picked):
                    area = PriorityArea(
                        id=self._new_id(),
                        priority_id=priority.id,
                        title=title,
                        description=f"Actions on {title.lower()}.",
                        position=position,
                    )
                    areas.append(area)
                    self._add(tx, area)

            measures: list[Measure] = []
            for n in range(shape.measures_per_plan):
                name, unit, polarity, source = MEASURES[n % len(MEASURES)]
                area = areas[n % len(areas)]
                priority = priorities[(n % len(areas)) // shape.areas_per_priority]
                baseline = _start_value(rng, unit)
                measure = Measure(
                    id=self._new_id(),
                    plan_id=plan.id,
                    priority_id=priority.id,
                    ref=f"M{n + 1:03d}",
                    name=f"{name}: {area.title}",
                    definition=f"{name}, counted for {area.title.lower()} in {borough}.",
                    unit=unit,
                    rate_basis="per 1,000 population" if unit is Unit.RATE else "",
                    polarity=polarity,
                    frequency=Frequency.QUARTERLY,
                    data_source=source,
                    owner_person_id=rng.choice(people).id,
                    baseline_value=baseline,
                    baseline_period="2016/17 Q1",
                    tolerance=round(abs(baseline) * 0.05, 1),
                    tolerance_mode=ToleranceMode.ABSOLUTE,
                    decimals=1,
                    comparator_names=list(COMPARATORS),
                    position=n,
                )
                measures.append(measure)
                self._add(tx, measure)
            self._flush(tx)

            years = sorted({q.fy for q in _value_quarters(shape.quarters_per_measure)})
            for measure in measures:
                if measure.polarity is Polarity.TRACKER:
                    continue  # trackers have no target
                base = measure.baseline_value or 0.0
                better = 1.0 if measure.polarity is Polarity.HIGHER_BETTER else -1.0
                for k, year in enumerate(years):
                    value = _clip(measure.unit, base * (1 + better * 0.01 * (k + 1)))
                    self._count(services.set_target(tx, measure, year, round(value, 1)))
                    self._maybe_flush(tx)

            return _Skeleton(
                plan_id=plan.id,
                organisation_ids=tuple(o.id for o in organisations),
                person_ids=tuple(p.id for p in people),
                priority_ids=tuple(p.id for p in priorities),
                codes=tuple(codes),
                area_ids=tuple(a.id for a in areas),
                area_titles=tuple(a.title for a in areas),
                measure_ids=tuple(m.id for m in measures),
            )

    # -- actions and their updates ---------------------------------------------------

    def _write_actions(self, sk: _Skeleton, first: int, count: int) -> None:
        rng = self.rng
        shape = self.shape
        plan_quarters = Quarter.range(Quarter(2023, 1), Quarter(2025, 4))
        with self._transaction() as tx:
            # A session that has the plan open: its structure is loaded and held, as a
            # screen editing the plan would hold it.
            areas = _load(tx, PriorityArea, sk.area_ids)
            held: list[Record] = [
                *_load(tx, Plan, [sk.plan_id]),
                *_load(tx, Priority, sk.priority_ids),
                *_load(tx, Organisation, sk.organisation_ids),
                *_load(tx, Person, sk.person_ids),
            ]
            for n in range(first, first + count):
                # Actions go round the areas in turn; refs number them within a priority.
                area_index = n % len(areas)
                area = areas[area_index]
                title = sk.area_titles[area_index]
                rounds, in_priority = divmod(area_index, shape.areas_per_priority)
                code = sk.codes[rounds]
                number = n // len(areas) * shape.areas_per_priority + in_priority + 1
                start = dt.date(2023, 4, 1) + dt.timedelta(days=rng.randint(0, 365))
                due = start + dt.timedelta(days=rng.randint(90, 900))
                lead_org, *partners = rng.sample(sk.organisation_ids, rng.randint(2, 4))
                lead_person = rng.choice(sk.person_ids)
                action = services.add_action(
                    tx,
                    area,
                    id=self._new_id(),
                    ref=f"{code}-{number:03d}",
                    title=f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} {title.lower()} "
                    f"in {rng.choice(WARDS)}",
                    description=self._sentences(DESCRIPTION, 2, area=title.lower()),
                    lead_organisation_id=lead_org,
                    lead_person_id=lead_person,
                    start_date=start,
                    due_date=due,
                    delivery_year=FinancialYear.of(due),
                    status=rng.choices(
                        (
                            ActionStatus.IN_PROGRESS,
                            ActionStatus.COMPLETE,
                            ActionStatus.NOT_STARTED,
                            ActionStatus.DEFERRED,
                        ),
                        weights=(6, 2, 1, 1),
                    )[0],
                    position=n,
                )
                self._count(action)
                for org_id in partners:
                    self._add(
                        tx,
                        ActionPartner(
                            id=self._new_id(), action_id=action.id, organisation_id=org_id
                        ),
                    )
                self._maybe_flush(tx)
                offset = rng.randrange(0, max(1, len(plan_quarters) - shape.updates_per_action + 1))
                for u in range(shape.updates_per_action):
                    quarter = plan_quarters[0].shift(offset + u)
                    update = services.write_update(
                        tx,
                        action,
                        quarter,
                        rag=rng.choices((Rag.GREEN, Rag.AMBER, Rag.RED), weights=(6, 3, 1))[0],
                        narrative=self._sentences(
                            NARRATIVE,
                            rng.randint(2, 4),
                            area=title.lower(),
                            partner=rng.choice(("the police", "housing", "health", "probation")),
                        ),
                        written_on=quarter.end_date + dt.timedelta(days=rng.randint(7, 28)),
                        author_person_id=lead_person,
                        state=UpdateState.SUBMITTED
                        if u == shape.updates_per_action - 1
                        else UpdateState.ACCEPTED,
                    )
                    self._count(update)
                    self._maybe_flush(tx)
            del held

    # -- measure values --------------------------------------------------------------

    def _write_values(self, measure_ids: Sequence[uuid.UUID]) -> None:
        rng = self.rng
        quarters = _value_quarters(self.shape.quarters_per_measure)
        with self._transaction() as tx:
            for measure in _load(tx, Measure, measure_ids):
                value = measure.baseline_value or 0.0
                drift = rng.uniform(-0.01, 0.01)
                for i, quarter in enumerate(quarters):
                    value = _clip(measure.unit, value * (1 + drift + rng.gauss(0, 0.04)))
                    comparators = {
                        name: round(_clip(measure.unit, value * rng.uniform(0.85, 1.15)), 1)
                        for name in COMPARATORS
                    }
                    recorded = services.record_value(
                        tx,
                        measure,
                        quarter,
                        round(value, 1),
                        comparators=comparators,
                        status=ValueStatus.PROVISIONAL
                        if i >= len(quarters) - 2
                        else ValueStatus.FINAL,
                        note="Figure revised by the data owner." if rng.random() < 0.02 else "",
                        significant=rng.random() < 0.5 if i % 4 == 3 else None,
                    )
                    self._count(recorded)
                    self._maybe_flush(tx)


def _load(tx: Transaction, cls: type[R], ids: Sequence[uuid.UUID]) -> list[R]:
    out: list[R] = []
    for id_ in ids:
        obj = tx.get(cls, id_)
        if obj is None:
            raise LookupError(f"{cls.__name__} {id_} is missing from the benchmark store")
        out.append(obj)
    return out


def _value_quarters(count: int) -> list[Quarter]:
    """``count`` quarters ending with 2025/26 Q4 (40 quarters start at 2016/17 Q1)."""
    last = Quarter(2025, 4)
    return Quarter.range(last.shift(-(count - 1)), last)


def _start_value(rng: random.Random, unit: Unit) -> float:
    if unit is Unit.PERCENT:
        return round(rng.uniform(30, 90), 1)
    if unit is Unit.RATE:
        return round(rng.uniform(1, 60), 1)
    return float(rng.randint(40, 2000))


def _clip(unit: Unit, value: float) -> float:
    if unit is Unit.PERCENT:
        return min(100.0, max(0.0, value))
    return max(0.0, value)
