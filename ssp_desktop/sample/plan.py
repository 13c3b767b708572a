"""The built-in sample plan: the Safer Stockport Partnership's plans, made illustrative.

The sample itself is data: ``sample/data/*.json`` holds every record it writes (the
partnership and its people, the outcome frameworks, both plans with their priorities
and areas, the actions and each quarter's update, the measures with their targets and
values, funding, risks and the board pack), built from the public council papers in
``shared/seeds/``; ``sample/data/README.md`` says which part comes from which paper and
what is made up. This module writes those files into a store, all of it through
:mod:`ssp_desktop.services`, so the sample obeys every rule a form, a spreadsheet or a
bundle does. The store is flagged as sample (``store_meta.sample = "1"``) so that every
screen and PDF made from it carries :data:`SAMPLE_BANNER`.

What the writer adds is rules, not content: records keep the order the files list
them in (``position``), people are named by their role, an action is delivered in the
financial year it is due, an update is written by the action's lead, and every
measure is marked illustrative.

The sample is fixed in time: the latest reported quarter is 2024/25 Q2 and the board
meets on 21 November 2024. Nothing depends on today's date or on chance, so two stores
made from it hold the same plan (record ids apart).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final, TypeVar

from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import (
    ActionStatus,
    Frequency,
    PackStatus,
    PlanStatus,
    Polarity,
    Rag,
    ToleranceMode,
    Unit,
    UpdateState,
    ValueStatus,
)
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionMeasure,
    ActionOutcome,
    ActionPartner,
    ActionUpdate,
    BoardMeeting,
    BoardPack,
    FundingAward,
    FundingAwardOutcome,
    FundingStream,
    Measure,
    MeasureOutcome,
    MeasureValue,
    Organisation,
    Outcome,
    OutcomeFramework,
    Partnership,
    Person,
    Plan,
    PlanApproval,
    PlanFramework,
    Priority,
    PriorityArea,
    PriorityOutcome,
    Risk,
)
from ssp_desktop.progress import Progress
from ssp_desktop.sample import data
from ssp_desktop.sample.data import Entry, SampleData
from ssp_desktop.store.engine import Store
from ssp_desktop.store.partnerships import ALL_PARTNERSHIPS

__all__ = [
    "SAMPLE_ACTOR",
    "SAMPLE_BANNER",
    "SAMPLE_MEETING_DATE",
    "SAMPLE_QUARTER",
    "SAMPLE_SOURCE",
    "SampleSummary",
    "write_sample",
]

SAMPLE_BANNER: Final = "Sample data - illustrative only"
SAMPLE_ACTOR: Final = "ssp-desktop sample"
SAMPLE_SOURCE: Final = "sample"
# The sample's "now": the quarter its board pack reports on, and the Board's meeting.
# Kept here as well as in board.json because the window reads them at start-up, before
# any data file is opened; the writer refuses data that disagree.
SAMPLE_QUARTER: Final = Quarter(2024, 2)
SAMPLE_MEETING_DATE: Final = dt.date(2024, 11, 21)

R = TypeVar("R", bound=Record)
K = TypeVar("K", str, tuple[str, str])


@dataclass(frozen=True)
class SampleSummary:
    """How many records of each kind the sample wrote, and the plan to open first."""

    organisations: int
    people: int
    plans: int
    priorities: int
    priority_areas: int
    actions: int
    action_updates: int
    measures: int
    measure_values: int
    funding_streams: int
    awards: int
    outcomes: int
    current_plan_id: uuid.UUID


def write_sample(
    store: Store, *, partnership_name: str | None = None, progress: Progress | None = None
) -> SampleSummary:
    """Write the sample plan into an empty store and flag the store as sample.

    One transaction, so a failure leaves the store as it was. Refuses a store that
    already holds a partnership rather than mixing the sample into real data; with
    ``partnership_name``, writes the sample once more as another partnership of that
    name beside those the store holds (a region's master copy, for demonstrations,
    tests and the region benchmark), refusing a name the store already holds.
    """
    sample = data.load()
    with store.transaction(actor=SAMPLE_ACTOR, source=SAMPLE_SOURCE) as tx:
        held = tx.session.scalars(
            select(Partnership.name)
            .where(Partnership.deleted_at.is_(None))
            .execution_options(**{ALL_PARTNERSHIPS: True})
        ).all()
        if held and partnership_name is None:
            raise DomainError(
                f"{store.location} already holds a partnership, so the sample plan was not "
                "written. Create a new, empty store for the sample."
            )
        if partnership_name is not None and partnership_name.casefold() in {
            n.casefold() for n in held
        }:
            raise DomainError(
                f"{store.path} already holds a partnership called {partnership_name!r}, so "
                "the sample plan was not written again. Choose another name."
            )
        writer = _Writer(tx, sample, progress or Progress(), partnership_name)
        summary = writer.write()
        sample.check_all_read()
    store.set_meta(sample="1")
    # The store holds one partnership more: stay open for the one it was open for, or
    # (a store that held none) for the one just written.
    chosen = store.partnership.id if store.partnership is not None else writer.partnership_id
    store.choose_partnership(str(chosen))
    return summary


class _Writer:
    """Writes the data files in dependency order, keeping the records it made by key."""

    def __init__(
        self,
        tx: Transaction,
        sample: SampleData,
        progress: Progress,
        partnership_name: str | None = None,
    ) -> None:
        self.tx = tx
        self.data = sample
        self.progress = progress
        self.partnership_name = partnership_name
        self.partnership_id: uuid.UUID | None = None
        self.counts: Counter[type[Record]] = Counter()
        self.orgs: dict[str, Organisation] = {}
        self.people: dict[str, Person] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.frameworks: dict[str, OutcomeFramework] = {}
        self.plans: dict[str, Plan] = {}
        self.priorities: dict[tuple[str, str], Priority] = {}
        self.areas: dict[tuple[str, str], PriorityArea] = {}
        self.measures: dict[str, Measure] = {}
        self.streams: dict[str, FundingStream] = {}
        self.archive_last: list[Plan] = []

    def create(self, entry: Entry, record: R) -> R:
        """Write ``record``, made from ``entry``: a rule it breaks is reported there."""
        # Ids are given before the record is written so that children can point at
        # parents still pending in the same flush.
        if getattr(record, "id", None) is None:
            record.id = uuid.uuid4()
        self.counts[type(record)] += 1
        with _at(entry):
            return services.create(self.tx, record)

    def write(self) -> SampleSummary:
        d = self.data
        stages = 6
        self.progress.step(0, stages, "Partners and people")
        p = d.partnership.entry("partnership")
        # The data's own name is read either way: the files must fit the writer.
        name = p.text("name")
        partnership = self.create(
            p,
            Partnership(
                name=self.partnership_name or name,
                area=p.text("area"),
                description=p.text("description"),
            ),
        )
        self.partnership_id = partnership.id
        self.write_people(partnership, d.partnership)
        self.write_frameworks(partnership, d.frameworks)
        self.tx.flush()
        self.progress.step(1, stages, "Plans")
        for plan in d.plans.entries("plans", named_by="key", required=True):
            self.write_plan(partnership, plan)
        current = self.plan_key(d.plans, "current")
        self.tx.flush()
        self.progress.step(2, stages, "Measures and values")
        self.write_measures(d.measures)
        self.tx.flush()
        self.progress.step(3, stages, "Actions and updates")
        for group in d.actions.entries("plans", named_by="plan", required=True):
            plan_key = self.plan_key(group, "plan")
            for position, action in enumerate(group.entries("actions", named_by="ref")):
                self.write_action(plan_key, action, position)
        self.progress.step(4, stages, "Funding, risks and board packs")
        self.write_funding(partnership, d.funding)
        self.write_risks(d.risks)
        self.write_board(partnership, d.board)
        # A plan the data calls archived is written as a draft and archived last: an
        # archived plan is read-only, so its records must be in place first.
        for archived in self.archive_last:
            services.review.archive_plan(self.tx, archived)
        self.progress.step(5, stages, "Saving")
        self.tx.flush()
        return self.summary(current)

    def summary(self, current: str) -> SampleSummary:
        c = self.counts
        return SampleSummary(
            organisations=c[Organisation],
            people=c[Person],
            plans=c[Plan],
            priorities=c[Priority],
            priority_areas=c[PriorityArea],
            actions=c[Action],
            action_updates=c[ActionUpdate],
            measures=c[Measure],
            measure_values=c[MeasureValue],
            funding_streams=c[FundingStream],
            awards=c[FundingAward],
            outcomes=c[Outcome],
            current_plan_id=self.plans[current].id,
        )

    # -- looking up what the files refer to ------------------------------------------

    def plan_key(self, entry: Entry, key: str) -> str:
        return self._known(entry, key, self.plans, "plan")

    def org(self, entry: Entry, key: str) -> Organisation:
        return self.orgs[self._known(entry, key, self.orgs, "organisation")]

    def person(self, entry: Entry, key: str) -> Person:
        return self.people[self._known(entry, key, self.people, "person")]

    def outcome_list(self, entry: Entry, key: str) -> list[Outcome]:
        return [
            self.outcomes[_check_key(entry, key, k, self.outcomes, "outcome")]
            for k in entry.texts(key)
        ]

    def priority(self, entry: Entry, plan_key: str, key: str) -> Priority:
        code = entry.text(key)
        found = self.priorities.get((plan_key, code))
        if found is None:
            raise entry.error(f"{key!r} names {code!r}, a priority plan {plan_key} does not have")
        return found

    @staticmethod
    def _known(entry: Entry, key: str, known: Mapping[str, object], noun: str) -> str:
        return _check_key(entry, key, entry.text(key), known, noun)

    # -- people and frameworks -------------------------------------------------------

    def write_people(self, partnership: Partnership, d: Entry) -> None:
        for o in d.entries("organisations", named_by="short_name", required=True):
            key = _unused(o, "short_name", o.text("short_name"), self.orgs)
            self.orgs[key] = self.create(
                o,
                Organisation(
                    partnership_id=partnership.id,
                    name=o.text("name"),
                    short_name=key,
                    sector=o.text("sector"),
                    responsible_authority=o.flag("responsible_authority"),
                ),
            )
        for p in d.entries("people", named_by="key", required=True):
            key = _unused(p, "key", p.text("key"), self.people)
            role = p.text("role")  # people are named by their role: the seeds name officials
            self.people[key] = self.create(
                p,
                Person(
                    partnership_id=partnership.id,
                    name=role,
                    role_title=role,
                    organisation_id=self.org(p, "organisation").id,
                    email=p.text("email"),
                ),
            )

    def write_frameworks(self, partnership: Partnership, d: Entry) -> None:
        for fw in d.entries("frameworks", named_by="key", required=True):
            key = _unused(fw, "key", fw.text("key"), self.frameworks)
            framework = self.frameworks[key] = self.create(
                fw,
                OutcomeFramework(
                    partnership_id=partnership.id,
                    name=fw.text("name"),
                    short_name=fw.text("short_name"),
                    owner=fw.text("owner"),
                    description=fw.text("description"),
                ),
            )
            position = 0
            for group in fw.entries("groups", named_by="name", required=True):
                group_name = group.text("name")
                for o in group.entries("outcomes", named_by="code", required=True):
                    code = _unused(o, "code", o.text("code"), self.outcomes)
                    self.outcomes[code] = self.create(
                        o,
                        Outcome(
                            framework_id=framework.id,
                            code=code,
                            title=o.text("title"),
                            group_name=group_name,
                            description=o.text("description", ""),
                            position=position,
                        ),
                    )
                    position += 1

    # -- plans -----------------------------------------------------------------------

    def write_plan(self, partnership: Partnership, p: Entry) -> None:
        key = _unused(p, "key", p.text("key"), self.plans)
        status = p.choice("status", PlanStatus)
        plan = self.plans[key] = self.create(
            p,
            Plan(
                partnership_id=partnership.id,
                title=p.text("title"),
                start_year=p.year("first_year"),
                end_year=p.year("last_year"),
                status=PlanStatus.DRAFT if status is PlanStatus.ARCHIVED else status,
                in_force_from=p.optional_date("in_force_from"),
                vision=p.text("vision"),
                summary=p.text("summary"),
            ),
        )
        if status is PlanStatus.ARCHIVED:
            self.archive_last.append(plan)
        for position, step in enumerate(p.entries("approvals", named_by="body")):
            self.create(
                step,
                PlanApproval(
                    plan_id=plan.id,
                    body=step.text("body"),
                    meeting_date=step.date("date"),
                    decision_ref=step.text("decision_ref", ""),
                    resolution=step.text("resolution"),
                    position=position,
                ),
            )
        for fw_key in p.texts("frameworks"):
            framework = self.frameworks[
                _check_key(p, "frameworks", fw_key, self.frameworks, "framework")
            ]
            self.create(p, PlanFramework(plan_id=plan.id, framework_id=framework.id))
        for position, pr in enumerate(p.entries("priorities", named_by="code", required=True)):
            code = pr.text("code")
            priority = self.priorities[key, code] = self.create(
                pr,
                Priority(
                    plan_id=plan.id,
                    code=code,
                    title=pr.text("title"),
                    description=pr.text("description"),
                    lead_person_id=self.person(pr, "lead").id,
                    position=position,
                ),
            )
            for outcome in self.outcome_list(pr, "outcomes"):
                self.create(pr, PriorityOutcome(priority_id=priority.id, outcome_id=outcome.id))
            for area_position, area in enumerate(pr.entries("areas", named_by="key")):
                area_key = _unused(area, "key", (key, area.text("key")), self.areas)
                self.areas[area_key] = self.create(
                    area,
                    PriorityArea(
                        priority_id=priority.id,
                        title=area.text("title"),
                        description=area.text("description"),
                        position=area_position,
                    ),
                )

    # -- measures --------------------------------------------------------------------

    def write_measures(self, d: Entry) -> None:
        plan_key = self.plan_key(d, "plan")
        plan = self.plans[plan_key]
        specs = d.entries("measures", named_by="ref", required=True)
        for position, m in enumerate(specs):
            baseline = m.entry("baseline")
            ref = _unused(m, "ref", m.text("ref"), self.measures)
            measure = self.measures[ref] = self.create(
                m,
                Measure(
                    plan_id=plan.id,
                    priority_id=self.priority(m, plan_key, "priority").id,
                    ref=ref,
                    name=m.text("name"),
                    definition=m.text("definition"),
                    unit=m.choice("unit", Unit),
                    rate_basis=m.text("rate_basis", ""),
                    polarity=m.choice("polarity", Polarity),
                    frequency=m.choice("frequency", Frequency),
                    data_source=m.text("data_source"),
                    owner_person_id=self.person(m, "owner").id,
                    baseline_value=baseline.number("value"),
                    baseline_period=baseline.text("period"),
                    tolerance=m.number("tolerance"),
                    tolerance_mode=m.choice("tolerance_mode", ToleranceMode),
                    stable_threshold=m.optional_number("stable_threshold"),
                    decimals=m.whole("decimals"),
                    comparator_names=m.texts("comparators"),
                    # Every figure in the sample is made up or quoted from the seeds.
                    illustrative=True,
                    position=position,
                ),
            )
            for outcome in self.outcome_list(m, "outcomes"):
                self.create(m, MeasureOutcome(measure_id=measure.id, outcome_id=outcome.id))
        self.tx.flush()
        for m in specs:
            self.write_measure_values(self.measures[m.text("ref")], m)

    def write_measure_values(self, measure: Measure, m: Entry) -> None:
        for year, target in m.by_year("targets", Entry.number):
            with _at(m):
                services.set_target(self.tx, measure, year, target)
        for v in m.entries("values", named_by="period"):
            with _at(v):
                services.record_value(
                    self.tx,
                    measure,
                    v.quarter("period"),
                    v.optional_number("value"),
                    comparators=v.numbers("comparators"),
                    status=v.choice("status", ValueStatus),
                    note=v.text("note", ""),
                    significant=v.optional_flag("significant"),
                    # A survey's flag against GM, not against an earlier wave.
                    comparator_significant=v.optional_flag("comparator_significant"),
                )
            self.counts[MeasureValue] += 1

    # -- actions ---------------------------------------------------------------------

    def write_action(self, plan_key: str, a: Entry, position: int) -> None:
        area_key = a.text("area")
        area = self.areas.get((plan_key, area_key))
        if area is None:
            raise a.error(f"'area' names {area_key!r}, an area plan {plan_key} does not have")
        lead = self.person(a, "lead")
        due = a.date("due")
        with _at(a):
            action = services.add_action(
                self.tx,
                area,
                ref=a.text("ref"),
                title=a.text("title"),
                description=a.text("description", ""),
                lead_organisation_id=self.org(a, "lead_organisation").id,
                lead_person_id=lead.id,
                start_date=a.date("start"),
                due_date=due,
                delivery_year=FinancialYear.of(due),
                status=a.choice("status", ActionStatus),
                # An action with updates takes its RAG from the newest; one without (the
                # archived plan's) gives it.
                rag=a.optional_choice("rag", Rag),
                position=position,
                id=uuid.uuid4(),
            )
        self.counts[Action] += 1
        for org_key in a.texts("partners"):
            org = self.orgs[_check_key(a, "partners", org_key, self.orgs, "organisation")]
            self.create(a, ActionPartner(action_id=action.id, organisation_id=org.id))
        for outcome in self.outcome_list(a, "outcomes"):
            self.create(a, ActionOutcome(action_id=action.id, outcome_id=outcome.id))
        for ref in a.texts("measures"):
            measure = self.measures[_check_key(a, "measures", ref, self.measures, "measure")]
            self.create(a, ActionMeasure(action_id=action.id, measure_id=measure.id))
        # Listed in the order they were written: a second update for a quarter
        # supersedes the first, which stays in the history.
        for u in a.entries("updates", named_by="quarter"):
            with _at(u):
                services.write_update(
                    self.tx,
                    action,
                    u.quarter("quarter"),
                    rag=u.optional_choice("rag", Rag),
                    narrative=u.text("narrative"),
                    written_on=u.date("written_on"),
                    author_person_id=lead.id,
                    state=u.choice("state", UpdateState),
                )
            self.counts[ActionUpdate] += 1

    # -- funding, risks and the board ------------------------------------------------

    def write_funding(self, partnership: Partnership, d: Entry) -> None:
        streams = d.entries("streams", named_by="name", required=True)
        for s in streams:
            name = _unused(s, "name", s.text("name"), self.streams)
            self.streams[name] = self.create(
                s,
                FundingStream(
                    partnership_id=partnership.id,
                    name=name,
                    funder=s.text("funder"),
                    description=s.text("description"),
                ),
            )
        self.tx.flush()
        for s in streams:
            stream = self.streams[s.text("name")]
            for year, amount in s.by_year("allocations", Entry.money):
                with _at(s):
                    services.set_allocation(self.tx, stream.id, year, amount)
        for a in d.entries("awards", named_by="project"):
            stream = self.streams[_check_key(a, "stream", a.text("stream"), self.streams, "stream")]
            plan_key = self.plan_key(a, "plan") if a.has("plan") else None
            award = self.create(
                a,
                FundingAward(
                    stream_id=stream.id,
                    year=a.year("year"),
                    project=a.text("project"),
                    recipient_organisation_id=self.org(a, "recipient_organisation").id
                    if a.has("recipient_organisation")
                    else None,
                    recipient_name=a.text("recipient_name", ""),
                    amount=a.money("amount"),
                    priority_id=self.priority(a, plan_key, "priority").id if plan_key else None,
                    description=a.text("description", ""),
                ),
            )
            for outcome in self.outcome_list(a, "outcomes"):
                self.create(a, FundingAwardOutcome(award_id=award.id, outcome_id=outcome.id))

    def write_risks(self, d: Entry) -> None:
        plan_key = self.plan_key(d, "plan")
        for r in d.entries("risks", named_by="ref"):
            self.create(
                r,
                Risk(
                    plan_id=self.plans[plan_key].id,
                    priority_id=self.priority(r, plan_key, "priority").id
                    if r.has("priority")
                    else None,
                    ref=r.text("ref"),
                    title=r.text("title"),
                    description=r.text("description"),
                    owner_person_id=self.person(r, "owner").id,
                    likelihood=r.whole("likelihood"),
                    impact=r.whole("impact"),
                    mitigation=r.text("mitigation"),
                    is_open=r.flag("is_open"),
                ),
            )

    def write_board(self, partnership: Partnership, d: Entry) -> None:
        m = d.entry("meeting")
        p = d.entry("pack")
        meeting_date, quarter = m.date("date"), p.quarter("quarter")
        if (meeting_date, quarter) != (SAMPLE_MEETING_DATE, SAMPLE_QUARTER):
            raise d.error(
                f"the meeting is on {meeting_date} and the pack reports on {quarter.label}, but "
                f"the app shows the sample as of {SAMPLE_MEETING_DATE} and "
                f"{SAMPLE_QUARTER.label} (SAMPLE_MEETING_DATE, SAMPLE_QUARTER)"
            )
        meeting = self.create(
            m,
            BoardMeeting(
                partnership_id=partnership.id,
                title=m.text("title"),
                meeting_date=meeting_date,
                venue=m.text("venue"),
            ),
        )
        self.create(
            p,
            BoardPack(
                meeting_id=meeting.id,
                plan_id=self.plans[self.plan_key(p, "plan")].id,
                quarter=quarter,
                status=p.choice("status", PackStatus),
                subject=p.text("subject"),
                report_of=p.text("report_of"),
                key_decision=p.flag("key_decision"),
                summary=p.text("summary"),
                recommendations=p.text("recommendations"),
                contact_officer=p.text("contact_officer"),
                protective_marking=p.text("protective_marking"),
            ),
        )


@contextmanager
def _at(entry: Entry) -> Iterator[None]:
    """A rule of the plan broken by what ``entry`` gives is reported with where it is."""
    try:
        yield
    except DomainError as exc:
        raise entry.error(str(exc).rstrip(".")) from exc


def _unused(entry: Entry, field: str, key: K, taken: Mapping[K, object]) -> K:
    """``key``, refused if another entry already has it (references would be ambiguous)."""
    if key in taken:
        shown = key[-1] if isinstance(key, tuple) else key
        raise entry.error(f"{field!r} {shown!r} is also given to another entry; a key names one")
    return key


def _check_key(entry: Entry, field: str, key: str, known: Mapping[str, object], noun: str) -> str:
    if key not in known:
        raise entry.error(f"{field!r} names the {noun} {key!r}, which the data files do not have")
    return key
