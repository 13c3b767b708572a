"""The built-in sample plan: the Safer Stockport Partnership's plans, made illustrative.

Everything here is built from the public council papers in ``shared/seeds/``; every
figure those papers do not give is made up, and the measures carrying such figures are
marked ``illustrative``. The store is flagged as sample (``store_meta.sample = "1"``) so
that every screen and PDF made from it carries :data:`SAMPLE_BANNER`.

Where each part comes from:

* partnership, responsible authorities and other board members, the Cabinet Member, the
  2022-25 vision, the three strategic priorities and the new focus areas (exploitation,
  online harm, stalking and harassment, support for victims), quarterly board review,
  the link to One Stockport's "strong and supportive" pillar: seed 000 (Cabinet summary
  sheet, 15 March 2022);
* the 2022-25 approval (Cabinet decision CAB265, 15 March 2022, "Recommendations
  approved"; forward plan ref IN2): seed 001; Board sign-off on 17 March 2022: seed 000;
* the 2018-21 plan's approval trail (Board, two scrutiny committees, Cabinet, Council)
  and resolutions: seed 002;
* the GM "Standing Together" outcomes (17 in 4 groups), the 2018-21 themes, their leads
  (by role) and the priority areas as refreshed in October 2019, the 2020/21 funding
  streams, allocations and example awards, the two performance headlines (92% feel safe
  vs GM 88%; 46.7% non-opiate completions vs England 35.9%), the programmes named in
  actions (IDVAs, Operation Challenger, Channel Panel, IOM, Serious Violence Reduction
  programme, Detached Outreach, FGM strategy, ...) and the One Stockport Borough Plan
  pillars: seed 003 (Annual Review 2020/21 slides);
* the police-data risk and the Strategy and Performance Team Manager as contact
  officer: seed 004 (scrutiny covering report, April 2021).

Invented, and said to be so where a user can see it: people are named by role, never by
name; later-year allocations and all award amounts; every measure value over time;
action progress narratives; risks; the November 2024 board meeting.

The sample is fixed in time: the latest reported quarter is 2024/25 Q2 and the board
meets on 21 November 2024. Nothing depends on today's date, and the only randomness is
a ``random.Random`` with a fixed seed, so two stores made from it hold the same plan
(record ids apart).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
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
from ssp_desktop.store.engine import Store

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
SAMPLE_QUARTER: Final = Quarter(2024, 2)
SAMPLE_MEETING_DATE: Final = dt.date(2024, 11, 21)

_SEED: Final = 20220401
_FIRST_QUARTER: Final = Quarter(2022, 1)
_QUARTERS: Final = tuple(Quarter.range(_FIRST_QUARTER, SAMPLE_QUARTER))
_D = dt.date


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


# --------------------------------------------------------------------------- partnership

_PARTNERSHIP_NAME = "Safer Stockport Partnership"
_PARTNERSHIP_AREA = "Stockport"
_PARTNERSHIP_DESCRIPTION = (
    "The statutory Community Safety Partnership for the Borough of Stockport, mandated by "
    "the Crime and Disorder Act 1998 and established in 1999. Its responsible authorities "
    "are Stockport Council, Greater Manchester Police, Greater Manchester Fire and Rescue "
    "Service, the Probation Service (the National Probation Service until its reunification "
    "in June 2021) and Stockport Clinical Commissioning Group (NHS Greater Manchester "
    "Integrated Care from July 2022). The Greater Manchester Combined Authority and "
    "Stockport Homes Group also sit on the SSP Board."
)


@dataclass(frozen=True)
class _Org:
    key: str  # also the short name
    name: str
    sector: str
    responsible_authority: bool
    mail_domain: str


_ORGANISATIONS: Final = (
    _Org("SMBC", "Stockport Council", "Local authority", True, "stockport.example"),
    _Org("GMP", "Greater Manchester Police", "Police", True, "gmp.example"),
    _Org(
        "GMFRS",
        "Greater Manchester Fire and Rescue Service",
        "Fire and rescue",
        True,
        "gmfrs.example",
    ),
    _Org("PS", "Probation Service", "Probation", True, "probation.example"),
    _Org("CCG", "Stockport Clinical Commissioning Group", "Health", True, "stockportccg.example"),
    _Org(
        "GMCA", "Greater Manchester Combined Authority", "Combined authority", False, "gmca.example"
    ),
    _Org("SHG", "Stockport Homes Group", "Housing", False, "stockporthomes.example"),
    _Org(
        "Remedi",
        "Remedi (GM Restorative Justice Service)",
        "Voluntary sector",
        False,
        "remedi.example",
    ),
    _Org("Owls", "Owls", "Voluntary sector", False, "owls.example"),
    _Org(
        "Equity",
        "The Equity Network",
        "Voluntary, community and faith sector",
        False,
        "equity.example",
    ),
)


@dataclass(frozen=True)
class _Person:
    key: str
    role: str  # people are named by their role: the seeds name real officials
    org: str
    mailbox: str


_PEOPLE: Final = (
    _Person("dcs", "Director of Children's Services", "SMBC", "dcs"),
    _Person(
        "place", "Corporate Director, Place Management and Regeneration", "SMBC", "place.director"
    ),
    _Person(
        "prevent_lead",
        "Head of Safeguarding and Learning (interim Prevent Lead)",
        "SMBC",
        "safeguarding.learning",
    ),
    _Person("spm", "Strategy and Performance Team Manager", "SMBC", "strategy.performance"),
    _Person(
        "cabinet", "Cabinet Member for Inclusive Neighbourhoods", "SMBC", "cabinet.neighbourhoods"
    ),
    _Person("da", "Domestic Abuse Strategic Lead", "SMBC", "domestic.abuse"),
    _Person("aspire", "Service Manager, Aspire Complex Safeguarding", "SMBC", "aspire"),
    _Person("edu", "Education Safeguarding Lead", "SMBC", "education.safeguarding"),
    _Person("prevent", "Prevent Co-ordinator", "SMBC", "prevent"),
    _Person("cohesion", "Community Cohesion Lead", "SMBC", "cohesion"),
    _Person("dph", "Director of Public Health", "SMBC", "public.health"),
    _Person("youth", "Youth Services Manager", "SMBC", "youth.services"),
    _Person("ts", "Trading Standards Manager", "SMBC", "trading.standards"),
    _Person("yjs", "Youth Justice Service Manager", "SMBC", "youth.justice"),
    _Person("analyst", "Senior Performance Analyst", "SMBC", "performance"),
    _Person("supt", "Superintendent, Stockport District", "GMP", "stockport.superintendent"),
    _Person("ci", "Chief Inspector, Neighbourhood Policing", "GMP", "stockport.neighbourhoods"),
    _Person("challenger", "Detective Inspector, Challenger Team", "GMP", "challenger"),
    _Person("pp", "Detective Chief Inspector, Public Protection", "GMP", "public.protection"),
    _Person("fire", "Station Manager, Prevention", "GMFRS", "prevention"),
    _Person("probation", "Head of Service, Probation", "PS", "head.of.service"),
    _Person("nps", "Area Manager, National Probation Service", "PS", "area.manager"),
    _Person("iom", "Senior Probation Officer, Integrated Offender Management", "PS", "iom"),
    _Person("nurse", "Designated Nurse for Safeguarding", "CCG", "safeguarding.nurse"),
    _Person("victims", "Victims' Services Lead", "GMCA", "victims.services"),
    _Person("asb", "Neighbourhood Safety Manager", "SHG", "neighbourhood.safety"),
    _Person("housing", "Housing Options Manager", "SHG", "housing.options"),
    _Person("rj", "Service Manager, Restorative Justice", "Remedi", "restorative.justice"),
)

# --------------------------------------------------------------------------- frameworks


@dataclass(frozen=True)
class _Framework:
    key: str
    name: str
    short_name: str
    owner: str
    description: str
    # (group name, ((code, title[, description]), ...)) in the framework's own order.
    groups: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]


_GM = _Framework(
    key="GM",
    name="GM Police and Crime Plan 2018-21 'Standing Together': Outcomes Framework",
    short_name="Standing Together",
    owner="Greater Manchester Combined Authority",
    description=(
        "The outcomes framework of the Greater Manchester Police and Crime Plan, "
        "'Standing Together': 17 outcomes in four groups. SSP aligns its plans with it."
    ),
    groups=(
        (
            "Overarching",
            (
                (
                    "GM-01",
                    "People feel safe at home, at work, socialising and when travelling in "
                    "Greater Manchester",
                ),
                (
                    "GM-02",
                    "There is increased confidence in the organisations that contribute to "
                    "community safety",
                ),
                (
                    "GM-03",
                    "The police and community safety services are believed to be effective, "
                    "efficient and fair by direct users of the services and the wider "
                    "community.",
                ),
                (
                    "GM-04",
                    "The justice services are believed to be effective, efficient and fair "
                    "by direct users of the services and the wider community",
                ),
                (
                    "GM-05",
                    "Places are believed to be safe / secure and communities perceived to "
                    "be strong",
                ),
            ),
        ),
        (
            "Keeping people safe",
            (
                ("GM-06", "There are fewer repeat victims"),
                (
                    "GM-07",
                    "Those who have been abused or exploited are cared for and helped to recover",
                ),
                (
                    "GM-08",
                    "Service users are satisfied with the services they received from the "
                    "police and other organisations that contribute to community safety",
                ),
                ("GM-09", "There are fewer inequalities in satisfaction and confidence"),
            ),
        ),
        (
            "Reducing Harm and Reoffending",
            (
                ("GM-10", "There are fewer recidivists"),
                ("GM-11", "There is a reduction in the frequency and seriousness of offending"),
                ("GM-12", "Justice is perceived to be fair and equitable"),
                ("GM-13", "There is increased confidence in the Criminal Justice System"),
                (
                    "GM-14",
                    "There is increased confidence in restorative approaches, "
                    "rehabilitation / recovery",
                ),
            ),
        ),
        (
            "Strengthening communities and places",
            (
                ("GM-15", "Places are believed to be safe / secure"),
                (
                    "GM-16",
                    "People have better perceptions of the places they live, work, "
                    "socialise and travel through",
                ),
                ("GM-17", "People feel communities are stronger"),
            ),
        ),
    ),
)

# (group, group statement, ((code, pillar, one-line description), ...)).
_BOROUGH_PLAN_PILLARS: Final = (
    (
        "One Heart",
        "At the heart of Stockport are its people and the communities in which they live.",
        (
            (
                "HEART-1",
                "A caring and growing Stockport",
                "Stockport is a great place to grow where children have the best start in life",
            ),
            (
                "HEART-2",
                "A healthy and happy Stockport",
                "People live the best lives they can - happy, healthy and independently",
            ),
            (
                "HEART-3",
                "A strong and supportive Stockport",
                "Confident and empowered communities working together to make a difference",
            ),
        ),
    ),
    (
        "One Home",
        "Stockport is a great place to live, where no one is left behind.",
        (
            (
                "HOME-1",
                "A fair and inclusive Stockport",
                "A borough for everyone - diversity and inclusion is celebrated and everyone has "
                "equity of opportunity",
            ),
            (
                "HOME-2",
                "A flourishing and creative Stockport",
                "Stockport is an exciting place to live, where people are active and celebrate the "
                "culture",
            ),
            (
                "HOME-3",
                "A climate friendly Stockport",
                "Stockport is a responsible and sustainable borough",
            ),
        ),
    ),
    (
        "One Future",
        "Growing, creating and delivering a thriving future for Stockport.",
        (
            (
                "FUTURE-1",
                "An enterprising and thriving Stockport",
                "A thriving economy which works for everyone",
            ),
            (
                "FUTURE-2",
                "A skilled and confident Stockport",
                "Everyone has the opportunities and skills to successfully achieve their ambitions",
            ),
            (
                "FUTURE-3",
                "A radically digital Stockport",
                "A digitally inclusive and dynamic borough",
            ),
        ),
    ),
)

_ONE_STOCKPORT = _Framework(
    key="OS",
    name="One Stockport Borough Plan",
    short_name="One Stockport",
    owner="Stockport Council and One Stockport partners",
    description="The borough's shared plan: One Heart, One Home and One Future.\n"
    + "\n".join(f"{group}: {statement}" for group, statement, _ in _BOROUGH_PLAN_PILLARS),
    groups=tuple(
        (group, tuple((code, title, f"{line}.") for code, title, line in pillars))
        for group, _statement, pillars in _BOROUGH_PLAN_PILLARS
    ),
)

_FRAMEWORKS: Final = (_GM, _ONE_STOCKPORT)

# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class _Approval:
    body: str
    date: dt.date
    decision_ref: str
    resolution: str


@dataclass(frozen=True)
class _Area:
    key: str
    title: str
    description: str


@dataclass(frozen=True)
class _Priority:
    code: str
    title: str
    description: str
    lead: str
    areas: tuple[_Area, ...]
    outcomes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Plan:
    key: str
    title: str
    start: int
    end: int
    status: PlanStatus
    in_force_from: dt.date | None
    vision: str
    summary: str
    approvals: tuple[_Approval, ...]
    frameworks: tuple[str, ...]
    priorities: tuple[_Priority, ...]


_REFRESHED_2019 = "Priority area for action as refreshed in October 2019."
_NEW_FOCUS = "A new focus for 2022-25: not prominent in earlier SSP plans."

_PLAN_2018 = _Plan(
    key="2018-21",
    title="Safer Stockport Partnership Plan 2018-21",
    start=2018,
    end=2020,
    status=PlanStatus.ARCHIVED,
    in_force_from=_D(2018, 4, 5),
    vision=(
        "Making Stockport a safer place to live by working with our communities and across "
        "organisations, with a focus on Communities and Places throughout the plan."
    ),
    summary=(
        "The key strategic priorities for the Partnership over 2018-21, a high level annual "
        "plan of key multi-agency activity and interventions to address the refreshed "
        "priority issues, and performance measures for each area. The plan took account of "
        "the GM Police and Crime Plan and its needs assessment, in a challenging financial "
        "context with rising recorded crime and more complex issues such as cybercrime, "
        "modern slavery and human trafficking. Its priority areas for action were refreshed "
        "in October 2019."
    ),
    approvals=(
        _Approval(
            "Safer Stockport Partnership Board",
            _D(2018, 2, 8),
            "",
            "Updated final draft plan approved, taking account of the feedback from the "
            "November 2017 cycle of scrutiny committees.",
        ),
        _Approval(
            "Communities & Transport Scrutiny Committee",
            _D(2018, 2, 26),
            "",
            "RESOLVED - That the report be noted.",
        ),
        _Approval(
            "Corporate, Resource Management & Governance Scrutiny Committee",
            _D(2018, 2, 27),
            "",
            "RESOLVED - (1) That the draft 3 Year Safer Stockport Partnership Strategic "
            "Plan be noted. (2) That the initial decisions on funding awards from the "
            "2018/19 Community Safety grant be noted.",
        ),
        _Approval(
            "Cabinet",
            _D(2018, 3, 13),
            "C&H25 / R&G16",
            "RESOLVED - That the Council Meeting be recommended to approve the Safer "
            "Stockport Partnership (SSP) Strategic Plan for 2018-2021.",
        ),
        _Approval(
            "Council Meeting",
            _D(2018, 4, 5),
            "",
            "RESOLVED - That the Safer Stockport Partnership Strategic Plan 2018-21 be "
            "approved and adopted.",
        ),
    ),
    frameworks=("GM",),
    priorities=(
        _Priority(
            "PSP",
            "Public Safety and Protection",
            "Reducing anti-social behaviour and crime in neighbourhoods and hotspots.",
            "place",
            (
                _Area("ASB", "Anti-Social Behaviour", _REFRESHED_2019),
                _Area("CRIME", "Crime", _REFRESHED_2019),
                _Area("HOTSPOTS", "Locations/Hotspots", _REFRESHED_2019),
            ),
            ("GM-01", "GM-15"),
        ),
        _Priority(
            "PVP",
            "Protecting Vulnerable People",
            "Safeguarding children and adults at risk of harm or exploitation.",
            "dcs",
            (
                _Area("MISSING", "Missing from Home or Care", _REFRESHED_2019),
                _Area("DA", "Domestic Abuse", _REFRESHED_2019),
                _Area("CSE", "Child Sexual Exploitation", _REFRESHED_2019),
                _Area("DRUGS", "Drugs and Alcohol", _REFRESHED_2019),
                _Area("HATE", "Hate Crime", _REFRESHED_2019),
                _Area(
                    "COMPLEX",
                    "Complex Safeguarding",
                    "Including modern slavery, human trafficking, female genital "
                    "mutilation (FGM) and honour-based violence. " + _REFRESHED_2019,
                ),
            ),
            ("GM-06", "GM-07"),
        ),
        _Priority(
            "SOC",
            "Serious and Organised Crime",
            "Disrupting organised crime groups and protecting young people from them.",
            "supt",
            (
                _Area("OCG", "Organised Crime Groups", _REFRESHED_2019),
                _Area(
                    "YOUNG",
                    "Young People at Risk of Involvement in Serious and Organised Crime",
                    _REFRESHED_2019,
                ),
            ),
            ("GM-11",),
        ),
        _Priority(
            "TJ",
            "Transforming Justice",
            "Reducing adult and youth offending and reoffending, and supporting victims.",
            "nps",
            (
                _Area("ADULT", "Adult Offending and Reoffending", _REFRESHED_2019),
                _Area("YOUTH", "Youth Offending and Reoffending", _REFRESHED_2019),
                _Area("VICTIMS", "Victims", _REFRESHED_2019),
            ),
            ("GM-10", "GM-13"),
        ),
        _Priority(
            "RAE",
            "Radicalisation and Extremism",
            "Preventing people being drawn into terrorism, under the Prevent duty.",
            "prevent_lead",
            (
                _Area(
                    "PREVENT",
                    "Prevent and Channel",
                    "The Prevent duty and the Stockport Channel Panel, led by the "
                    "interim Prevent Lead.",
                ),
            ),
            ("GM-17",),
        ),
    ),
)

_PLAN_2022 = _Plan(
    key="2022-25",
    title="Safer Stockport Partnership Plan 2022-25",
    start=2022,
    end=2024,
    status=PlanStatus.APPROVED,
    in_force_from=_D(2022, 4, 1),
    vision=(
        "Residents feel safer; they receive a response to community safety issues when they "
        "need one; victims are listened to and supported; and fewer people become repeat "
        "victims."
    ),
    summary=(
        "SSP's plan for 2022-25, built on the Strategic Intelligence Assessment (partner "
        "data, the quarterly GM Community Safety Surveys and engagement events) and aligned "
        "with the GM Police and Crime Plan 'Standing Together'. It keeps a focus on domestic "
        "abuse, victim-based crime, hate crime and working with adults and young people to "
        "prevent and reduce their offending and reoffending, and adds issues not prominent "
        "in earlier plans: exploitation of vulnerable people (especially children) by "
        "criminals, online harm, stalking and harassment, and support for victims. The three "
        "strategic priorities are reviewed annually. The SSP Board reviews progress with the "
        "actions and measures each quarter, the action plan is refreshed annually and an "
        "annual update goes to Communities and Housing Scrutiny Committee. The plan links "
        "to the 'strong and supportive' priority of the One Stockport Borough Plan."
    ),
    approvals=(
        _Approval(
            "Cabinet",
            _D(2022, 3, 15),
            "CAB265",
            "Recommendations approved (key decision; forward plan ref IN2). Cabinet "
            "approved the draft Safer Stockport Partnership Plan 2022-2025 for sign-off "
            "by the Safer Stockport Partnership Board on 17 March 2022 and "
            "implementation from 1 April 2022.",
        ),
        _Approval(
            "Safer Stockport Partnership Board",
            _D(2022, 3, 17),
            "",
            "Plan signed off for implementation from 1 April 2022.",
        ),
    ),
    frameworks=("GM", "OS"),
    priorities=(
        _Priority(
            "PVP",
            "Protecting Vulnerable People",
            "Protecting children and adults from abuse, exploitation and harm, online "
            "and offline, and making sure victims are cared for and helped to recover.",
            "dcs",
            (
                _Area(
                    "DA",
                    "Domestic Abuse",
                    "Support for victims and their children, and work with "
                    "perpetrators to change their behaviour.",
                ),
                _Area(
                    "EXPLOIT",
                    "Exploitation of Vulnerable People (especially children)",
                    "Criminal and sexual exploitation of children and adults at risk. "
                    + _NEW_FOCUS,
                ),
                _Area(
                    "COMPLEX",
                    "Complex Safeguarding",
                    "Modern slavery, human trafficking, female genital mutilation "
                    "(FGM) and honour-based abuse.",
                ),
                _Area(
                    "ONLINE",
                    "Online Harm",
                    "Grooming, sextortion, bullying and extremist material online. " + _NEW_FOCUS,
                ),
                _Area(
                    "STALKING",
                    "Stalking and Harassment",
                    "Recognising stalking early and protecting victims. " + _NEW_FOCUS,
                ),
                _Area(
                    "HATE",
                    "Hate Crime",
                    "Encouraging reporting and supporting victims of hate crime and incidents.",
                ),
                _Area(
                    "DRUGS",
                    "Drugs and Alcohol",
                    "Treatment and recovery for people with drug and alcohol problems.",
                ),
                _Area(
                    "PREVENT",
                    "Radicalisation and Extremism",
                    "The Prevent duty and the Stockport Channel Panel.",
                ),
            ),
            ("GM-06", "GM-07", "GM-09", "HEART-3", "HOME-1"),
        ),
        _Priority(
            "PSP",
            "Public Safety and Protection",
            "Safer neighbourhoods and public places: less anti-social behaviour, "
            "neighbourhood crime, serious violence and organised crime.",
            "supt",
            (
                _Area(
                    "ASB",
                    "Anti-Social Behaviour",
                    "Anti-social behaviour in neighbourhoods, parks and the town centre.",
                ),
                _Area(
                    "NEIGHBOURHOOD",
                    "Neighbourhood Crime",
                    "Residential burglary and other neighbourhood crime, including doorstep crime.",
                ),
                _Area(
                    "VIOLENCE",
                    "Serious Violence and Knife Crime",
                    "A public health approach to serious violence with the GM Violence "
                    "Reduction Unit.",
                ),
                _Area(
                    "OCG",
                    "Serious and Organised Crime",
                    "Disrupting organised crime groups and the exploitation they cause.",
                ),
            ),
            ("GM-01", "GM-05", "GM-15", "GM-16", "HEART-3"),
        ),
        _Priority(
            "ROR",
            "Reducing Offending and Reoffending",
            "Working with adults and young people to prevent and reduce their offending "
            "and reoffending, with victims at the centre of justice.",
            "probation",
            (
                _Area(
                    "ADULT",
                    "Adult Offending and Reoffending",
                    "Integrated Offender Management, treatment requirements and resettlement.",
                ),
                _Area(
                    "YOUTH",
                    "Youth Offending and Reoffending",
                    "Diversion, the Youth Justice Plan and resettlement of children.",
                ),
                _Area(
                    "VICTIMS",
                    "Support for Victims",
                    "A clear route to support for every victim. " + _NEW_FOCUS,
                ),
                _Area(
                    "RJ",
                    "Restorative Justice",
                    "Victim-led restorative approaches with the GM Restorative Justice Service.",
                ),
            ),
            ("GM-10", "GM-11", "GM-13", "GM-14", "HEART-3"),
        ),
    ),
)

_PLANS: Final = (_PLAN_2018, _PLAN_2022)
_CURRENT_PLAN: Final = _PLAN_2022.key

# --------------------------------------------------------------------------- actions

# One letter per quarter from 2022/23 Q1 to 2024/25 Q2: the RAG of that quarter's update,
# "-" an update without a RAG (not started), "." no update.
_RAG_CODES: Final[dict[str, Rag | None]] = {"G": Rag.GREEN, "A": Rag.AMBER, "R": Rag.RED, "-": None}


@dataclass(frozen=True)
class _Action:
    ref: str
    area: str
    title: str
    description: str
    lead_org: str
    lead: str
    partners: tuple[str, ...]
    start: dt.date
    due: dt.date
    status: ActionStatus
    rags: str = ""
    outcomes: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    # Progress phrases used in turn; with ``seasonal`` there are four, one per quarter.
    steps: tuple[str, ...] = ()
    seasonal: bool = False
    metric: tuple[str, int, int] | None = None  # ("{n} referrals ...", low, high)
    issue: str = ""  # why the action slipped when Amber or Red
    forum: str = "SSP Board"


_FULL_PLAN = (_D(2022, 4, 1), _D(2025, 3, 31))

_ACTIONS_2022: Final = (
    # ---- Protecting Vulnerable People
    _Action(
        "PVP-01",
        "DA",
        "Maintain the Independent Domestic Violence Advocate (IDVA) service for high-risk victims",
        "Keep enough IDVA capacity to support every high-risk victim referred to MARAC, with "
        "Owls and Stockport Homes.",
        "SMBC",
        "da",
        ("Owls", "SHG", "GMP"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGAAGGGGGG",
        ("GM-06", "GM-07"),
        ("PVP-M1", "PVP-M2"),
        (
            "IDVA caseloads reviewed with Stockport Homes and Owls",
            "Referral routes from GMP, A&E and GP practices re-promoted to frontline staff",
            "High-risk cases heard at MARAC within the agreed ten working days",
            "IDVA vacancies filled and induction completed",
            "Repeat-referral case audit completed with Owls and learning shared with MARAC",
        ),
        metric=("{n} referrals to the IDVA service this quarter", 38, 62),
        issue="two IDVA posts were vacant and waiting times for first contact rose",
        forum="Domestic Abuse Partnership Board",
    ),
    _Action(
        "PVP-02",
        "DA",
        "Deliver the domestic abuse perpetrator programme and widen its referral routes",
        "Commission programme places for people who harm their partners and open referrals "
        "from Probation, children's social care and Early Help.",
        "SMBC",
        "da",
        ("PS", "GMP"),
        _D(2022, 7, 1),
        _D(2024, 3, 31),
        ActionStatus.COMPLETE,
        ".GGAAGGG..",
        ("GM-06", "GM-11"),
        ("PVP-M2",),
        (
            "Programme places commissioned and referral criteria agreed with Probation",
            "First cohort completed the programme, with support offered to every partner",
            "Referral route opened to Early Help practitioners",
            "Programme evaluation reported to the Domestic Abuse Partnership Board",
        ),
        metric=("{n} people started the perpetrator programme", 6, 14),
        issue="referrals from children's social care were lower than planned",
        forum="Domestic Abuse Partnership Board",
    ),
    _Action(
        "PVP-03",
        "DA",
        "Target hardening so that victims of domestic abuse can stay safely in their homes",
        "Security surveys and sanctuary works for high-risk victims, with GMFRS home fire "
        "safety checks.",
        "SHG",
        "asb",
        ("SMBC", "GMFRS"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGGGGGGAGG",
        ("GM-06", "GM-15"),
        (),
        (
            "Home security surveys offered to every high-risk victim referred by the IDVAs",
            "Sanctuary works completed alongside GMFRS home fire safety checks",
            "Contractor framework renewed to keep response times under five working days",
            "Follow-up calls made to check that households still feel safe",
        ),
        metric=("{n} homes made safer with target-hardening works", 14, 32),
        issue="contractor lead times lengthened",
        forum="Domestic Abuse Partnership Board",
    ),
    _Action(
        "PVP-04",
        "DA",
        "Refresh the Domestic Abuse Strategy and the safe accommodation needs assessment",
        "Meet the Domestic Abuse Act 2021 duties with a refreshed needs assessment and a new "
        "strategy shaped by survivors.",
        "SMBC",
        "da",
        ("CCG", "SHG"),
        _D(2022, 4, 1),
        _D(2023, 3, 31),
        ActionStatus.COMPLETE,
        "GGGG......",
        ("GM-07",),
        (),
        (
            "Safe accommodation needs assessment updated with partner data",
            "Survivors' views gathered through focus groups run by Owls",
            "Draft Domestic Abuse Strategy consulted on with partners",
            "Domestic Abuse Strategy approved and published",
        ),
        issue="partner data returns were late",
        forum="Domestic Abuse Partnership Board",
    ),
    _Action(
        "PVP-05",
        "EXPLOIT",
        "Embed the Aspire complex safeguarding response to child criminal and sexual exploitation",
        "Aspire's duty and consultation offer, screening and multi-agency safety plans for "
        "children at risk of exploitation.",
        "SMBC",
        "aspire",
        ("GMP", "CCG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "AAAGGGGAGG",
        ("GM-07", "GM-06"),
        ("PVP-M7",),
        (
            "Aspire duty and consultation offer promoted to schools and Early Help",
            "Multi-agency exploitation screening tool rolled out",
            "Return-home interviews for children missing from home reviewed for exploitation risk",
            "Safety plans reviewed at the monthly multi-agency exploitation meeting",
            "Disruption activity agreed with GMP for hotspot locations",
        ),
        metric=("{n} children supported by Aspire this quarter", 48, 72),
        issue="referrals rose faster than the team's capacity",
        forum="Complex Safeguarding Strategic Group",
    ),
    _Action(
        "PVP-06",
        "EXPLOIT",
        "Hold a complex safeguarding week of action every October",
        "A partnership week of visits, training and publicity on exploitation, building on "
        "the October 2020 week of action.",
        "SMBC",
        "aspire",
        ("GMP", "SHG", "GMFRS"),
        _D(2022, 7, 1),
        _D(2024, 10, 31),
        ActionStatus.IN_PROGRESS,
        ".GGGGGGGGG",
        ("GM-07", "GM-15"),
        (),
        (
            "Partners agreed the themes and venues for the October week of action",
            "Briefings for hotels, licensed premises and taxi drivers prepared for the week of "
            "action",
            "Complex safeguarding week of action delivered with partners across the borough",
            "Learning from the week of action reviewed and follow-up actions logged",
        ),
        seasonal=True,
        metric=("{n} businesses briefed on the signs of exploitation", 40, 95),
        forum="Complex Safeguarding Strategic Group",
    ),
    _Action(
        "PVP-07",
        "COMPLEX",
        "Deliver the Female Genital Mutilation (FGM) strategy and action plan",
        "Training for midwives, health visitors, school nurses and schools, and a clear "
        "mandatory reporting pathway.",
        "CCG",
        "nurse",
        ("SMBC",),
        _D(2022, 4, 1),
        _D(2023, 12, 31),
        ActionStatus.COMPLETE,
        "GGAAAAA...",
        ("GM-07",),
        (),
        (
            "FGM action plan milestones agreed with health and schools",
            "FGM awareness training delivered to midwives, health visitors and school nurses",
            "Mandatory reporting pathway checked with GP practices",
            "Training offer extended to designated safeguarding leads in primary schools",
            "Strategy review completed and reported to the Complex Safeguarding Strategic Group",
        ),
        metric=("{n} practitioners trained on FGM this quarter", 20, 60),
        issue="training reached fewer primary school staff than planned",
        forum="Complex Safeguarding Strategic Group",
    ),
    _Action(
        "PVP-08",
        "COMPLEX",
        "Raise awareness of modern slavery and human trafficking",
        "Briefings for frontline staff and businesses, joint visits and a refreshed National "
        "Referral Mechanism route.",
        "GMP",
        "pp",
        ("SMBC", "SHG"),
        _D(2023, 4, 1),
        _D(2025, 3, 31),
        ActionStatus.IN_PROGRESS,
        "....GGAGGG",
        ("GM-07",),
        (),
        (
            "Modern slavery briefings delivered to frontline council and housing staff",
            "Joint visits with Trading Standards to car washes and nail bars",
            "National Referral Mechanism route refreshed for council staff",
            "Business awareness campaign run with town centre traders",
        ),
        metric=("{n} potential victims referred through the National Referral Mechanism", 2, 9),
        issue="joint visits were postponed while officers supported other operations",
        forum="Complex Safeguarding Strategic Group",
    ),
    _Action(
        "PVP-09",
        "ONLINE",
        "Online harm awareness for schools, parents and carers",
        "Sessions and resources on online grooming, sextortion and harmful content for "
        "pupils, staff and families.",
        "SMBC",
        "edu",
        ("GMP", "CCG"),
        _D(2022, 9, 1),
        _D(2025, 3, 31),
        ActionStatus.IN_PROGRESS,
        ".GGGGAGGG.",
        ("GM-07", "GM-01"),
        ("PVP-M6",),
        (
            "Online harm session for secondary schools piloted with the School Health team",
            "Sessions for parents and carers delivered through school and Family Hub events",
            "Resource pack on grooming and sextortion shared with designated safeguarding leads",
            "Pupil survey on online safety analysed with schools",
            "Offer extended to primary schools",
        ),
        metric=("{n} schools received an online harm session this quarter", 5, 14),
        issue="school timetables limited the sessions that could be booked",
        forum="Stockport Safeguarding Children Partnership",
    ),
    _Action(
        "PVP-10",
        "ONLINE",
        "Train practitioners to spot online grooming, sextortion and extremist material",
        "A multi-agency training offer on online harms for social care, youth work and "
        "housing staff.",
        "SMBC",
        "prevent",
        ("GMP",),
        _D(2023, 4, 1),
        _D(2024, 3, 31),
        ActionStatus.COMPLETE,
        "....GGGG..",
        ("GM-07",),
        (),
        (
            "Training needs of frontline practitioners mapped with the safeguarding partnerships",
            "Online harm training co-designed with GMP's cyber crime team",
            "Training delivered to social care, youth work and housing staff",
            "Evaluation completed and training added to the multi-agency training offer",
        ),
        metric=("{n} practitioners completed the training", 25, 70),
        forum="Prevent Steering Group",
    ),
    _Action(
        "PVP-11",
        "STALKING",
        "Make more use of Stalking Protection Orders and specialist stalking advocacy",
        "Identify stalking early, apply for orders where they would protect victims and "
        "offer specialist advocacy.",
        "GMP",
        "pp",
        ("SMBC", "Owls", "PS"),
        _D(2022, 10, 1),
        _D(2025, 3, 31),
        ActionStatus.IN_PROGRESS,
        "..AARRAAGG",
        ("GM-06", "GM-07"),
        ("PVP-M5",),
        (
            "Stalking Protection Order applications reviewed with GMP legal services",
            "Specialist stalking advocacy offered to high-risk victims through Owls",
            "Stalking screening questions added to the domestic abuse risk assessment",
            "Officer training on recognising stalking behaviour delivered",
            "Breaches of orders reviewed with Probation",
        ),
        metric=("{n} Stalking Protection Orders applied for this quarter", 1, 6),
        issue="few applications reached court because of delays in the legal process",
        forum="Domestic Abuse Partnership Board",
    ),
    _Action(
        "PVP-12",
        "HATE",
        "Deliver Hate Crime Awareness Week every October",
        "A borough-wide programme of events with schools and community groups, run through "
        "the Hate Crime Partnership Group.",
        "SMBC",
        "cohesion",
        ("GMP", "Equity", "SHG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGGGGGGGGG",
        ("GM-17", "GM-09"),
        ("PVP-M4",),
        (
            "Hate Crime Partnership Group agreed the programme for Hate Crime Awareness Week",
            "Schools and community groups signed up to Hate Crime Awareness Week events",
            "Hate Crime Awareness Week delivered with events across the borough",
            "Feedback from Hate Crime Awareness Week reviewed with community groups",
        ),
        seasonal=True,
        metric=("{n} community groups engaged by the Hate Crime Partnership Group", 8, 22),
        forum="Hate Crime Partnership Group",
    ),
    _Action(
        "PVP-13",
        "HATE",
        "Grow third-party hate crime reporting with voluntary and community groups",
        "More places where people can report hate crime without going to the police first.",
        "SMBC",
        "cohesion",
        ("Equity", "GMP"),
        _D(2023, 4, 1),
        _D(2025, 3, 31),
        ActionStatus.IN_PROGRESS,
        "....AAAGGG",
        ("GM-09", "GM-17"),
        ("PVP-M4",),
        (
            "Existing third-party reporting centres audited with The Equity Network",
            "New reporting centres recruited in libraries and faith settings",
            "Volunteers at reporting centres trained to take reports",
            "Reporting centres promoted in Hate Crime Awareness Week materials",
        ),
        metric=("{n} third-party reporting centres active", 9, 16),
        issue="fewer community venues volunteered than expected",
        forum="Hate Crime Partnership Group",
    ),
    _Action(
        "PVP-14",
        "DRUGS",
        "Deliver the local drug and alcohol treatment plan, including the "
        "Victoria Intensive Project",
        "Treatment and recovery for people with drug and alcohol problems, and intensive "
        "support for those with complex needs.",
        "SMBC",
        "dph",
        ("CCG", "PS", "SHG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGGGAAAAAA",
        ("GM-14", "GM-07"),
        ("PVP-M3",),
        (
            "Local drug and alcohol treatment plan refreshed with the Combating Drugs Partnership",
            "Victoria Intensive Project caseloads reviewed for people with complex needs",
            "Non-opiate treatment pathway reviewed with the treatment provider",
            "Outreach to people using non-opiates in the night-time economy expanded",
            "Recovery community events delivered with people in treatment",
        ),
        metric=("{n} people supported by the Victoria Intensive Project", 30, 48),
        issue="successful completions for non-opiate users fell below target",
        forum="Combating Drugs Partnership",
    ),
    _Action(
        "PVP-15",
        "PREVENT",
        "Run the Stockport Channel Panel under the Prevent statutory guidance",
        "Monthly Channel Panel with full partner attendance, Prevent duty training and the "
        "Channel Panel case peer review recommendations.",
        "SMBC",
        "prevent",
        ("GMP", "CCG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGGGGGGGGG",
        ("GM-17", "GM-07"),
        (),
        (
            "Channel Panel met monthly with full partner attendance",
            "Prevent duty training delivered to schools and colleges",
            "Channel Panel case peer review recommendations implemented",
            "Prevent awareness refreshed for GP practices and health staff",
        ),
        metric=("{n} Channel referrals considered by the Panel", 1, 7),
        forum="Prevent Steering Group",
    ),
    # ---- Public Safety and Protection
    _Action(
        "PSP-01",
        "ASB",
        "Detached Outreach youth work in anti-social behaviour hotspots",
        "The Detached Outreach Youth Work Team meets young people where they gather, in "
        "parks and hotspots picked by the ASB Tasking Group.",
        "SMBC",
        "youth",
        ("GMP", "SHG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GAAGGGGAGG",
        ("GM-15", "GM-16"),
        ("PSP-M2",),
        (
            "Detached Outreach Youth Work Team deployed to hotspots chosen by the ASB Tasking "
            "Group",
            "Joint evening patrols with neighbourhood police teams in parks",
            "Young people signposted to positive activities and youth clubs",
            "Deployment pattern reviewed against ASB data",
        ),
        metric=("{n} young people engaged by Detached Outreach this quarter", 120, 260),
        issue="youth worker vacancies reduced evening cover",
        forum="ASB Tasking Group",
    ),
    _Action(
        "PSP-02",
        "ASB",
        "A shared ASB case management process and ASB case reviews",
        "One process for GMP, the council and Stockport Homes, and a refreshed ASB case "
        "review (Community Trigger) procedure.",
        "SHG",
        "asb",
        ("GMP", "SMBC"),
        _D(2022, 4, 1),
        _D(2023, 9, 30),
        ActionStatus.COMPLETE,
        "GGAGGG....",
        ("GM-06", "GM-08"),
        ("PSP-M5",),
        (
            "Shared ASB case management process agreed by GMP, the council and Stockport Homes",
            "ASB case review (Community Trigger) procedure refreshed and published",
            "Staff trained on the shared process",
            "Case review audit completed and reported to the ASB Tasking Group",
        ),
        metric=("{n} ASB case reviews requested", 1, 5),
        issue="partners' access to the shared case system was delayed",
        forum="ASB Tasking Group",
    ),
    _Action(
        "PSP-03",
        "ASB",
        "Seasonal ASB plans for parks and the town centre",
        "Summer and bonfire-period plans that put patrols, youth work and clean-ups where "
        "they are needed most.",
        "GMP",
        "ci",
        ("SMBC", "GMFRS", "SHG"),
        _D(2023, 4, 1),
        _D(2025, 3, 31),
        ActionStatus.IN_PROGRESS,
        "....GGAGAA",
        ("GM-15", "GM-16"),
        ("PSP-M2",),
        (
            "Summer ASB plan for parks and the town centre agreed with partners",
            "Summer ASB plan delivered, with extra patrols at known hotspots",
            "Bonfire period plan delivered with GMFRS and Stockport Homes",
            "Lessons from the year's seasonal plans reviewed at the ASB Tasking Group",
        ),
        seasonal=True,
        issue="ASB in the town centre rose over the summer despite extra patrols",
        forum="ASB Tasking Group",
    ),
    _Action(
        "PSP-04",
        "NEIGHBOURHOOD",
        "Target hardening in residential burglary hotspots",
        "Crime prevention visits, cocooning and security improvements for burglary victims "
        "and their neighbours.",
        "GMP",
        "ci",
        ("SHG", "SMBC"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "AAGGGGGGGG",
        ("GM-15", "GM-06"),
        ("PSP-M3",),
        (
            "Burglary hotspots identified each month from crime data",
            "Crime prevention visits and target hardening offered to victims and neighbours",
            "Cocooning letters delivered around burglary victims' homes",
            "Property marking kits handed out at community events",
        ),
        metric=("{n} homes visited with crime prevention advice", 40, 110),
        issue="officer abstractions reduced the number of visits",
        forum="Neighbourhood Crime Tasking Group",
    ),
    _Action(
        "PSP-05",
        "NEIGHBOURHOOD",
        "More no cold calling zones and doorstep crime awareness campaigns",
        "New zones where residents ask for them, and campaigns with older people's groups "
        "on rogue traders.",
        "SMBC",
        "ts",
        ("GMP", "SHG"),
        _D(2022, 7, 1),
        _D(2024, 6, 30),
        ActionStatus.IN_PROGRESS,
        ".GGGGGGGGG",
        ("GM-15", "GM-01"),
        (),
        (
            "Requests for no cold calling zones assessed with residents' groups",
            "New no cold calling zones set up with signs and resident packs",
            "Doorstep crime awareness campaign run with older people's groups",
            "Rogue trader intelligence shared with GMP",
        ),
        metric=("{n} new no cold calling zones set up", 1, 4),
        forum="Neighbourhood Crime Tasking Group",
    ),
    _Action(
        "PSP-06",
        "VIOLENCE",
        "Deliver the Serious Violence Reduction programme in secondary schools",
        "Knife crime awareness and serious violence sessions for pupils, and sessions for "
        "parents and carers.",
        "SMBC",
        "edu",
        ("GMP", "GMCA"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGGGGGAGGG",
        ("GM-11", "GM-01"),
        ("PSP-M4",),
        (
            "Serious Violence Reduction programme sessions delivered in secondary schools",
            "Knife crime awareness sessions delivered with GMP school engagement officers",
            "Parent and carer sessions on serious youth violence held",
            "Programme content refreshed with the GM Violence Reduction Unit",
        ),
        metric=("{n} pupils took part in the programme this quarter", 300, 900),
        issue="exam periods limited the sessions schools could host",
        forum="Serious Violence Steering Group",
    ),
    _Action(
        "PSP-07",
        "VIOLENCE",
        "Publish a serious violence needs assessment and response strategy",
        "Meet the Serious Violence Duty with a joint strategic needs assessment and strategy "
        "agreed by all specified authorities.",
        "SMBC",
        "spm",
        ("GMP", "PS", "CCG"),
        _D(2022, 10, 1),
        _D(2024, 1, 31),
        ActionStatus.COMPLETE,
        "..GGAGGG..",
        ("GM-11",),
        ("PSP-M4",),
        (
            "Serious Violence Duty partners and data sources agreed",
            "Data sharing agreement signed by all specified authorities",
            "Strategic needs assessment drafted and tested with partners",
            "Serious violence response strategy approved by the SSP Board and published",
        ),
        issue="health data arrived later than planned",
        forum="Serious Violence Steering Group",
    ),
    _Action(
        "PSP-08",
        "VIOLENCE",
        "Knife crime sweeps, amnesties and test purchases (Operation Sycamore)",
        "GMP's response to knife crime: weapons sweeps, amnesty bins and test purchases of "
        "knife retailers with Trading Standards.",
        "GMP",
        "ci",
        ("SMBC", "SHG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGGGAGGGAR",
        ("GM-11", "GM-15"),
        ("PSP-M4",),
        (
            "Weapons sweeps carried out in parks and hotspots under Operation Sycamore",
            "Knife amnesty bins promoted and emptied",
            "Test purchases of knife retailers carried out with Trading Standards",
            "Knife crime hotspots reviewed with the Serious Violence Steering Group",
        ),
        metric=("{n} knives recovered through sweeps and amnesty bins", 25, 80),
        issue="knife crime offences rose sharply over the summer, mostly in the town centre",
        forum="Serious Violence Steering Group",
    ),
    _Action(
        "PSP-09",
        "OCG",
        "Disrupt organised crime groups through Operation Challenger",
        "Stop gangs re-forming and dismantle drug supply lines through warrants, arrests and "
        "Proceeds of Crime Act seizures.",
        "GMP",
        "challenger",
        ("SMBC", "SHG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGGGGGGGGG",
        ("GM-11", "GM-05"),
        (),
        (
            "Intelligence-led warrants executed against Stockport organised crime groups",
            "Proceeds of Crime Act seizures and confiscations pursued",
            "Drug supply lines dismantled with partner support",
            "Partners briefed on disruption tactics at the Challenger partnership meeting",
        ),
        metric=("{n} intelligence-led warrants executed this quarter", 6, 15),
        forum="Challenger Partnership Group",
    ),
    _Action(
        "PSP-10",
        "OCG",
        "Safeguard children exploited through county lines as victims first",
        "Joint safeguarding operations with Aspire and cross-border work that avoids the "
        "'adultification' of exploited children.",
        "GMP",
        "challenger",
        ("SMBC", "GMCA"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GAAGGGGGGG",
        ("GM-07", "GM-11"),
        ("PVP-M7",),
        (
            "Joint safeguarding operations with Aspire for children found in county lines activity",
            "Cross-border work with neighbouring forces on children from Stockport",
            "Training on avoiding the 'adultification' of exploited children delivered to officers",
            "Referral route from custody to Aspire reviewed",
        ),
        metric=("{n} children safeguarded through joint operations", 3, 12),
        issue="cross-border information sharing was slower than agreed",
        forum="Challenger Partnership Group",
    ),
    _Action(
        "PSP-11",
        "OCG",
        "Close premises used for drug supply and cuckooing",
        "Closure orders and civil powers against premises linked to organised crime, with "
        "support for the vulnerable tenants exploited there.",
        "GMP",
        "ci",
        ("SHG", "SMBC"),
        _D(2023, 4, 1),
        _D(2025, 3, 31),
        ActionStatus.IN_PROGRESS,
        "....GGGGGG",
        ("GM-15", "GM-07"),
        (),
        (
            "Premises linked to drug supply identified from community intelligence",
            "Closure orders obtained with Stockport Homes for the worst-affected properties",
            "Support offered to vulnerable tenants whose homes had been taken over",
            "Follow-up visits confirmed that ASB stopped after closures",
        ),
        metric=("{n} closure orders obtained", 1, 4),
        forum="Challenger Partnership Group",
    ),
    _Action(
        "PSP-12",
        "ASB",
        "Reduce deliberate fires in hotspot areas",
        "Clear fly-tipping and waste from hotspots and work with young people who set fires.",
        "GMFRS",
        "fire",
        ("SHG", "SMBC"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GAGGGAGGGG",
        ("GM-15", "GM-16"),
        ("PSP-M6",),
        (
            "Deliberate fire hotspots mapped with Stockport Homes and the council",
            "Fly-tipping and waste removed from hotspot sites",
            "Fire setter intervention sessions delivered to young people",
            "School fire safety talks delivered in hotspot areas",
        ),
        metric=("{n} young people took part in fire setter interventions", 4, 15),
        issue="deliberate fires rose during the dry summer",
        forum="ASB Tasking Group",
    ),
    # ---- Reducing Offending and Reoffending
    _Action(
        "ROR-01",
        "ADULT",
        "Implement the national Integrated Offender Management (IOM) strategy",
        "Focus IOM on those at highest risk of reoffending, including a domestic abuse "
        "perpetrator cohort managed jointly by Probation and GMP.",
        "PS",
        "iom",
        ("GMP", "SMBC", "SHG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGGAGGGGGG",
        ("GM-10", "GM-11"),
        ("ROR-M3",),
        (
            "IOM cohort refreshed under the national IOM strategy",
            "Domestic abuse perpetrators added to the IOM cohort under joint management",
            "Housing and treatment needs of the cohort reviewed with partners",
            "IOM case conferences held monthly with full attendance",
        ),
        metric=("{n} people managed in the IOM cohort", 85, 110),
        issue="probation officer vacancies increased caseloads",
        forum="Reducing Reoffending Board",
    ),
    _Action(
        "ROR-02",
        "ADULT",
        "Make more use of Community Sentence Treatment Requirements",
        "Promote a refreshed treatment offer to the courts so that more sentences address "
        "addiction and mental health.",
        "PS",
        "probation",
        ("SMBC", "CCG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "AAAGGGGGGG",
        ("GM-10", "GM-14"),
        ("ROR-M5", "PVP-M3"),
        (
            "Refreshed treatment offer presented to magistrates and sentencers",
            "Court-based treatment assessments arranged with the drug and alcohol service",
            "Mental health treatment requirement pathway agreed with health partners",
            "Completion of treatment requirements reviewed with providers",
        ),
        metric=("{n} treatment requirements made by the courts", 16, 30),
        issue="court backlogs delayed sentencing",
        forum="Reducing Reoffending Board",
    ),
    _Action(
        "ROR-03",
        "ADULT",
        "Intensive Community Order for young adults",
        "An Intensive Community Order model for 18 to 25 year olds, developed with the GM "
        "Violence Reduction Unit, including resettlement after custody.",
        "PS",
        "probation",
        ("GMCA", "GMP"),
        _D(2022, 7, 1),
        _D(2025, 3, 31),
        ActionStatus.IN_PROGRESS,
        ".AAAGGGGGG",
        ("GM-10", "GM-11"),
        (),
        (
            "Intensive Community Order model agreed with the GM Violence Reduction Unit",
            "Sentencers briefed on the Intensive Community Order",
            "Mentoring and education offer arranged for young adults on the order",
            "Resettlement cases from custody added to the model",
        ),
        metric=("{n} young adults on an Intensive Community Order", 4, 16),
        issue="fewer orders were made than forecast while sentencers built confidence in it",
        forum="Reducing Reoffending Board",
    ),
    _Action(
        "ROR-04",
        "ADULT",
        "Accommodation pathway for people leaving prison",
        "Settled accommodation on release for Stockport residents leaving prison.",
        "SHG",
        "housing",
        ("PS", "SMBC"),
        _D(2023, 4, 1),
        _D(2025, 3, 31),
        ActionStatus.IN_PROGRESS,
        "....AARRAA",
        ("GM-10",),
        ("ROR-M1",),
        (
            "Prison release accommodation protocol agreed with Probation",
            "Duty to refer notifications from prisons tracked for Stockport residents",
            "Supported accommodation places sourced for high-risk releases",
            "Outcomes for people released without settled accommodation reviewed",
        ),
        metric=("{n} people released from prison to Stockport addresses", 25, 45),
        issue="short-notice releases left people without settled accommodation",
        forum="Reducing Reoffending Board",
    ),
    _Action(
        "ROR-05",
        "YOUTH",
        "Deliver the annual Youth Justice Plan",
        "Divert children from the justice system where it is safe to, and meet their health "
        "and education needs.",
        "SMBC",
        "yjs",
        ("GMP", "CCG"),
        *_FULL_PLAN,
        ActionStatus.IN_PROGRESS,
        "GGGGGGGGGG",
        ("GM-10", "GM-11"),
        ("ROR-M2",),
        (
            "Youth Justice Plan priorities agreed by the Youth Justice Partnership Board",
            "Out-of-court disposals panel reviewed diversion decisions with GMP",
            "Speech, language and health screening offered to every child entering the service",
            "Youth Justice Plan progress reported to the Youth Justice Partnership Board",
        ),
        metric=("{n} children diverted through out-of-court disposals", 10, 28),
        forum="Youth Justice Partnership Board",
    ),
    _Action(
        "ROR-06",
        "YOUTH",
        "Take part in the GM Resettlement Consortium for children leaving custody",
        "Resettlement planning that starts at sentence, to GM Resettlement Consortium standards.",
        "SMBC",
        "yjs",
        ("GMCA", "PS"),
        _D(2022, 4, 1),
        _D(2024, 3, 31),
        ActionStatus.COMPLETE,
        "GGGGGGGG..",
        ("GM-10",),
        (),
        (
            "Stockport's resettlement needs shared with the GM Resettlement Consortium",
            "Resettlement planning now starts at sentence for children in custody",
            "Consortium practice standards adopted by the Youth Justice Service",
            "Resettlement pathway evaluated and embedded in practice",
        ),
        forum="Youth Justice Partnership Board",
    ),
    _Action(
        "ROR-07",
        "VICTIMS",
        "Launch a single victim support pathway",
        "One clear route from every partner to the right support for victims of crime.",
        "GMCA",
        "victims",
        ("GMP", "SMBC", "Owls"),
        _D(2022, 10, 1),
        _D(2024, 12, 31),
        ActionStatus.IN_PROGRESS,
        "..AAAGGGGG",
        ("GM-08", "GM-07"),
        ("ROR-M4",),
        (
            "Victim referral routes mapped across partners",
            "Single victim support pathway designed with victims and providers",
            "Pathway launched with training for frontline staff",
            "Victim feedback on the pathway collected through the satisfaction survey",
        ),
        metric=("{n} victims referred through the pathway", 150, 320),
        issue="partners' referral systems needed changes before they could use the pathway",
        forum="Victims' Services Group",
    ),
    _Action(
        "ROR-08",
        "VICTIMS",
        "Multi-agency reviews for repeat victims",
        "Find the most frequent repeat victims each week and agree a joint safety plan for each.",
        "GMP",
        "ci",
        ("SHG", "SMBC"),
        _D(2023, 4, 1),
        _D(2025, 3, 31),
        ActionStatus.IN_PROGRESS,
        "....GGGAGG",
        ("GM-06",),
        (),
        (
            "Vulnerable victims identified weekly from repeat-calls data",
            "Multi-agency case reviews held for the most frequent repeat victims",
            "Safety plans put in place with housing and social care",
            "Outcomes for repeat victims reported to the Victims' Services Group",
        ),
        metric=("{n} repeat victims reviewed", 12, 30),
        issue="police data on repeat calls was delayed",
        forum="Victims' Services Group",
    ),
    _Action(
        "ROR-09",
        "RJ",
        "Post-conviction victim-led restorative justice pilot for domestic abuse cases",
        "Bring the GM Restorative Justice Service's Manchester pilot to Stockport, with "
        "safeguards agreed with the IDVA service.",
        "Remedi",
        "rj",
        ("PS", "SMBC"),
        _D(2023, 4, 1),
        _D(2025, 3, 31),
        ActionStatus.DEFERRED,
        "....AAAAAA",
        ("GM-14", "GM-07"),
        (),
        (
            "Learning from the Manchester pilot reviewed with the GM Restorative Justice Service",
            "Victim safety safeguards for domestic abuse cases agreed with the IDVA service",
            "Referral criteria drafted with Probation",
            "Funding options for a Stockport pilot explored",
        ),
        issue="the Manchester pilot evaluation is not yet published and funding for a "
        "Stockport pilot is unconfirmed",
        forum="Reducing Reoffending Board",
    ),
    _Action(
        "ROR-10",
        "RJ",
        "Train frontline staff in restorative approaches",
        "Restorative practice training for housing, youth and community safety staff.",
        "Remedi",
        "rj",
        ("SHG", "SMBC"),
        _D(2025, 1, 6),
        _D(2025, 3, 31),
        ActionStatus.NOT_STARTED,
        ".........-",
        ("GM-14",),
        (),
        issue="sessions are booked with the council's workforce development team",
        forum="Reducing Reoffending Board",
    ),
)

# A few actions of the archived plan, to show what an archived plan holds.
_ACTIONS_2018: Final = tuple(
    _Action(
        ref,
        area,
        title,
        "",
        org,
        lead,
        partners,
        _D(2018, 4, 1),
        _D(2021, 3, 31),
        ActionStatus.COMPLETE,
    )
    for ref, area, title, org, lead, partners in (
        (
            "PSP-01",
            "ASB",
            "Multi-agency tasking of anti-social behaviour hotspots",
            "GMP",
            "ci",
            ("SHG",),
        ),
        (
            "PVP-01",
            "DA",
            "Independent Domestic Violence Advocates for high-risk victims",
            "SMBC",
            "da",
            ("Owls",),
        ),
        (
            "SOC-01",
            "OCG",
            "Disrupt Stockport organised crime groups through Operation Challenger",
            "GMP",
            "challenger",
            ("SMBC",),
        ),
        (
            "TJ-01",
            "ADULT",
            "Adapt probation delivery through the pandemic and reunification",
            "PS",
            "nps",
            ("GMP",),
        ),
        (
            "RAE-01",
            "PREVENT",
            "Run the Stockport Channel Panel under Operation Dovetail",
            "SMBC",
            "prevent_lead",
            ("GMP",),
        ),
    )
)

_ACTIONS: Final = {_PLAN_2018.key: _ACTIONS_2018, _PLAN_2022.key: _ACTIONS_2022}

# An update written and then corrected in the same quarter, so the history shows a
# superseded version: (action ref, quarter, RAG first given, first narrative).
_REVISION: Final = (
    "PVP-01",
    Quarter(2024, 1),
    Rag.AMBER,
    "IDVA referrals fell this quarter and two posts were vacant. Awaiting validated "
    "referral figures from Owls.",
)
_REVISED_PREFIX = "Revised after the referral figures were validated with Owls."

_RAG_SENTENCES: Final[dict[Rag, tuple[str, ...]]] = {
    Rag.GREEN: (
        "On track: the quarter's milestones were met.",
        "On track, with partners delivering as agreed.",
    ),
    Rag.AMBER: (
        "Some slippage because {issue}; a recovery plan is agreed with partners.",
        "Behind schedule because {issue}; the lead is working with partners to "
        "recover the position.",
    ),
    Rag.RED: ("Off track because {issue}; escalated to the SSP Board with a recovery plan.",),
}

# --------------------------------------------------------------------------- measures


@dataclass(frozen=True)
class _Trend:
    """Where a quarterly series starts and ends; noise and seasonal shape added on top."""

    start: float
    end: float
    noise: float = 0.0
    seasonal: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class _SeedValue:
    """A figure taken from the seeds, entered for the quarter it was published in."""

    period: Quarter
    value: float
    comparator: float
    note: str
    significant: bool | None = None


@dataclass(frozen=True)
class _Measure:
    ref: str
    priority: str
    name: str
    definition: str
    unit: Unit
    polarity: Polarity
    frequency: Frequency
    source: str
    owner: str
    baseline: tuple[float, str]
    trend: _Trend | None  # None when ``values`` are hand-written
    targets: tuple[float, float, float] | None = None  # 2022/23, 2023/24, 2024/25
    tolerance: float = 0.0
    mode: ToleranceMode = ToleranceMode.ABSOLUTE
    comparator: str | None = None
    comparator_trend: _Trend | None = None
    decimals: int = 1
    rate_basis: str = ""
    outcomes: tuple[str, ...] = ()
    # Hand-written values (replacing the trend) and their survey significance flags.
    values: tuple[float | None, ...] | None = None
    comparator_values: tuple[float, ...] | None = None
    significant: tuple[bool | None, ...] | None = None
    # (quarter, value, note): a value the trend would not give, e.g. a spike or a gap.
    overrides: tuple[tuple[Quarter, float | None, str], ...] = ()
    seed_value: _SeedValue | None = None
    stable_threshold: float | None = None


_AVG_2122 = "2021/22 quarterly average"
_GMP_CRIME = "GMP recorded crime"
_PCT, _COUNT, _RATE = Unit.PERCENT, Unit.COUNT, Unit.RATE
_HIGHER, _LOWER, _TRACKER = Polarity.HIGHER_BETTER, Polarity.LOWER_BETTER, Polarity.TRACKER
_QUARTERLY, _ANNUAL = Frequency.QUARTERLY, Frequency.ANNUAL
_RELATIVE = ToleranceMode.RELATIVE

_MEASURES: Final = (
    _Measure(
        "PVP-M1",
        "PVP",
        "Domestic abuse incidents and crimes recorded by police",
        "Incidents and crimes with a domestic abuse flag recorded by GMP in Stockport in the "
        "quarter. Monitored for demand: more reporting is not in itself bad.",
        _COUNT,
        _TRACKER,
        _QUARTERLY,
        "GMP recorded crime and incidents (domestic abuse flag)",
        "analyst",
        (1420, _AVG_2122),
        _Trend(1420, 1560, 60),
        decimals=0,
        outcomes=("GM-06",),
    ),
    _Measure(
        "PVP-M2",
        "PVP",
        "Repeat referrals to MARAC",
        "Cases heard at the Stockport Multi-Agency Risk Assessment Conference (MARAC) in the "
        "quarter that had been referred in the previous 12 months, as a percentage of all "
        "cases heard.",
        _PCT,
        _LOWER,
        _QUARTERLY,
        "Stockport MARAC records",
        "da",
        (31.0, "2021/22"),
        _Trend(31.0, 28.5, 1.2),
        (30.0, 29.0, 28.0),
        2.0,
        comparator="England",
        comparator_trend=_Trend(32.0, 31.5, 0.3),
        outcomes=("GM-06",),
    ),
    _Measure(
        "PVP-M3",
        "PVP",
        "Non-opiate users successfully completing treatment",
        "Non-opiate users in treatment who completed it successfully and did not re-present "
        "within six months, as a percentage of all non-opiate users in treatment (rolling "
        "12 months).",
        _PCT,
        _HIGHER,
        _QUARTERLY,
        "National Drug Treatment Monitoring System (NDTMS)",
        "dph",
        (46.7, "2020/21"),
        _Trend(45.8, 42.6, 0.6),
        (45.0, 45.0, 45.0),
        3.0,
        comparator="England",
        comparator_trend=_Trend(35.0, 33.2, 0.3),
        outcomes=("GM-14", "GM-11"),
        seed_value=_SeedValue(
            Quarter(2020, 3),
            46.7,
            35.9,
            "From the SSP Annual Review 2020/21: the 3rd highest figure in GM, comparing "
            "favourably with the national figure of 35.9%.",
        ),
    ),
    _Measure(
        "PVP-M4",
        "PVP",
        "Hate crimes and incidents reported",
        "Hate crimes and incidents recorded by GMP or reported through third-party reporting "
        "centres in the quarter. More reporting can mean more confidence to report.",
        _COUNT,
        _TRACKER,
        _QUARTERLY,
        "GMP recorded crime and third-party reporting centres",
        "cohesion",
        (160, _AVG_2122),
        _Trend(160, 185, 15),
        decimals=0,
        outcomes=("GM-09", "GM-17"),
    ),
    _Measure(
        "PVP-M5",
        "PVP",
        "Stalking and harassment offences with a positive outcome",
        "Stalking and harassment crimes recorded in the quarter resolved by a charge, "
        "summons or out-of-court disposal, as a percentage of those recorded.",
        _PCT,
        _HIGHER,
        _QUARTERLY,
        _GMP_CRIME,
        "pp",
        (6.5, "2021/22"),
        _Trend(6.2, 8.8, 0.4),
        (7.0, 8.0, 9.0),
        1.0,
        comparator="GM average",
        comparator_trend=_Trend(6.8, 7.9, 0.2),
        outcomes=("GM-06", "GM-13"),
    ),
    _Measure(
        "PVP-M6",
        "PVP",
        "Schools receiving online harm awareness sessions",
        "Primary and secondary schools in Stockport receiving at least one online harm "
        "awareness session for pupils, staff or parents in the financial year.",
        _COUNT,
        _HIGHER,
        _ANNUAL,
        "Stockport Council education safeguarding records",
        "edu",
        (34, "2021/22"),
        _Trend(48, 57),
        (45.0, 60.0, 75.0),
        10.0,
        _RELATIVE,
        decimals=0,
        outcomes=("GM-07",),
    ),
    _Measure(
        "PVP-M7",
        "PVP",
        "Children at risk of exploitation with a current multi-agency safety plan",
        "Children open to the Aspire complex safeguarding service whose multi-agency safety "
        "plan was reviewed in the last three months, as a percentage of all children open "
        "to Aspire at quarter end.",
        _PCT,
        _HIGHER,
        _QUARTERLY,
        "Stockport Council children's social care records",
        "aspire",
        (82.0, "March 2022"),
        _Trend(81.0, 92.0, 1.5),
        (85.0, 90.0, 90.0),
        5.0,
        outcomes=("GM-07",),
    ),
    _Measure(
        "PSP-M1",
        "PSP",
        "Residents feeling very or fairly safe in their local area",
        "Stockport respondents to the GM Policing and Community Safety Survey who say they "
        "feel very or fairly safe in their local area, as a percentage of all respondents.",
        _PCT,
        _HIGHER,
        Frequency.SURVEY_WAVE,
        "GM Policing and Community Safety Survey",
        "analyst",
        (92.0, "Wave 6, Dec 2020"),
        None,
        (90.0, 90.0, 90.0),
        2.0,
        comparator="GM average",
        decimals=0,
        outcomes=("GM-01", "GM-16"),
        values=(91, 92, 91, 90, 91, 89, 89, 90, 89, 88),
        comparator_values=(87, 87, 86, 86, 86, 85, 85, 84, 84, 84),
        significant=(False, False, False, False, False, True, False, False, False, False),
        seed_value=_SeedValue(
            Quarter(2020, 3),
            92,
            88,
            "From GM survey Wave 6, December 2020: statistically significantly higher than "
            "the figure for the whole of GM.",
            significant=True,
        ),
        stable_threshold=1.0,
    ),
    _Measure(
        "PSP-M2",
        "PSP",
        "Anti-social behaviour incidents reported to police",
        "ASB incidents recorded by GMP in Stockport in the quarter, per 1,000 population.",
        _RATE,
        _LOWER,
        _QUARTERLY,
        "GMP incident records",
        "ci",
        (6.8, _AVG_2122),
        _Trend(7.0, 6.0, 0.1, (0.1, 0.35, -0.1, -0.35)),
        (6.8, 6.6, 6.4),
        5.0,
        _RELATIVE,
        comparator="GM average",
        comparator_trend=_Trend(8.4, 7.6, 0.1, (0.1, 0.4, -0.1, -0.4)),
        decimals=2,
        rate_basis="per 1,000 population",
        outcomes=("GM-15", "GM-16"),
    ),
    _Measure(
        "PSP-M3",
        "PSP",
        "Residential burglary",
        "Residential burglaries recorded by GMP in Stockport in the quarter, per 1,000 households.",
        _RATE,
        _LOWER,
        _QUARTERLY,
        _GMP_CRIME,
        "ci",
        (1.9, _AVG_2122),
        _Trend(1.95, 1.55, 0.06),
        (1.8, 1.7, 1.6),
        0.1,
        comparator="GM average",
        comparator_trend=_Trend(2.6, 2.3, 0.05),
        decimals=2,
        rate_basis="per 1,000 households",
        outcomes=("GM-15", "GM-06"),
        overrides=(
            (
                SAMPLE_QUARTER,
                None,
                "Not yet available: GMP data for the quarter had not been validated when "
                "this report was prepared (see risk R01).",
            ),
        ),
    ),
    _Measure(
        "PSP-M4",
        "PSP",
        "Knife crime offences",
        "Possession of a bladed article, and offences involving a knife or sharp instrument, "
        "recorded by GMP in Stockport in the quarter.",
        _COUNT,
        _LOWER,
        _QUARTERLY,
        _GMP_CRIME,
        "ci",
        (52, _AVG_2122),
        _Trend(53, 45, 2.5),
        (50.0, 48.0, 46.0),
        10.0,
        _RELATIVE,
        decimals=0,
        outcomes=("GM-11", "GM-01"),
        overrides=(
            (
                SAMPLE_QUARTER,
                61,
                "Provisional. A rise over the summer, mostly in the town centre; see "
                "action PSP-08.",
            ),
        ),
    ),
    _Measure(
        "PSP-M5",
        "PSP",
        "Anti-social behaviour cases reported to Stockport Homes",
        "New ASB cases opened by Stockport Homes Group in the quarter.",
        _COUNT,
        _TRACKER,
        _QUARTERLY,
        "Stockport Homes Group case management system",
        "asb",
        (410, _AVG_2122),
        _Trend(410, 455, 25),
        decimals=0,
        outcomes=("GM-15",),
    ),
    _Measure(
        "PSP-M6",
        "PSP",
        "Deliberate secondary fires",
        "Deliberate fires in refuse, grassland, derelict vehicles and other outdoor "
        "structures attended by GMFRS in Stockport in the quarter.",
        _COUNT,
        _LOWER,
        _QUARTERLY,
        "GMFRS Incident Recording System",
        "fire",
        (95, _AVG_2122),
        _Trend(95, 82, 3, (4, 8, -4, -8)),
        (92.0, 88.0, 85.0),
        10.0,
        _RELATIVE,
        decimals=0,
        outcomes=("GM-15", "GM-16"),
    ),
    _Measure(
        "ROR-M1",
        "ROR",
        "Adult proven reoffending rate",
        "Adults in the Stockport offender cohort who commit a proven reoffence within 12 "
        "months, as a percentage of the cohort (latest published cohort).",
        _PCT,
        _LOWER,
        _ANNUAL,
        "Ministry of Justice proven reoffending statistics",
        "probation",
        (25.1, "2019/20 cohort"),
        _Trend(24.6, 24.8),
        (24.5, 24.0, 23.5),
        1.0,
        comparator="England",
        comparator_trend=_Trend(25.0, 25.4),
        outcomes=("GM-10",),
    ),
    _Measure(
        "ROR-M2",
        "ROR",
        "First-time entrants to the youth justice system",
        "Children aged 10 to 17 receiving their first caution or conviction in the last 12 "
        "months, per 100,000 children aged 10 to 17.",
        _RATE,
        _LOWER,
        _QUARTERLY,
        "Police National Computer (Youth Justice Board)",
        "yjs",
        (165, "2021 calendar year"),
        _Trend(168, 138, 4),
        (160.0, 150.0, 145.0),
        5.0,
        _RELATIVE,
        comparator="England",
        comparator_trend=_Trend(150, 140, 2),
        decimals=0,
        rate_basis="per 100,000 young people aged 10-17",
        outcomes=("GM-11",),
    ),
    _Measure(
        "ROR-M3",
        "ROR",
        "Reduction in offending by the Integrated Offender Management cohort",
        "Percentage reduction in offences committed by the IOM cohort in the 12 months after "
        "joining, compared with the 12 months before.",
        _PCT,
        _HIGHER,
        _QUARTERLY,
        "GMP and Probation Service IOM performance tool",
        "iom",
        (55.0, "2021/22"),
        _Trend(54.0, 60.0, 2.0),
        (55.0, 57.0, 60.0),
        5.0,
        comparator="GM average",
        comparator_trend=_Trend(50.0, 53.0, 0.8),
        outcomes=("GM-10", "GM-11"),
    ),
    _Measure(
        "ROR-M4",
        "ROR",
        "Victims satisfied with the support they received",
        "Victims responding to the GM Victims' Services satisfaction survey who were "
        "satisfied with the support they received, as a percentage of respondents.",
        _PCT,
        _HIGHER,
        _QUARTERLY,
        "GM Victims' Services satisfaction survey",
        "victims",
        (78.0, "2021/22"),
        _Trend(77.0, 84.0, 1.5),
        (80.0, 82.0, 84.0),
        3.0,
        comparator="GM average",
        comparator_trend=_Trend(76.0, 79.0, 0.5),
        outcomes=("GM-08", "GM-07"),
    ),
    _Measure(
        "ROR-M5",
        "ROR",
        "Community Sentence Treatment Requirements made by the courts",
        "Community orders made in the quarter for Stockport residents with a drug, alcohol "
        "or mental health treatment requirement.",
        _COUNT,
        _HIGHER,
        _QUARTERLY,
        "Probation Service case management system",
        "probation",
        (18, _AVG_2122),
        _Trend(17, 29, 2),
        (20.0, 24.0, 28.0),
        15.0,
        _RELATIVE,
        decimals=0,
        outcomes=("GM-10", "GM-14"),
    ),
)

# --------------------------------------------------------------------------- funding

_LATER_YEARS_ILLUSTRATIVE = (
    " The 2020/21 allocation is from the SSP Annual Review 2020/21; allocations for later "
    "years are illustrative."
)


@dataclass(frozen=True)
class _Stream:
    name: str
    funder: str
    description: str
    allocations: tuple[tuple[int, str], ...]  # (financial year start, GBP)


_STREAMS: Final = (
    _Stream(
        "Community Safety Grant",
        "Greater Manchester Combined Authority",
        "GMCA community safety grant for projects supporting the partnership's "
        "priorities." + _LATER_YEARS_ILLUSTRATIVE,
        ((2020, "218973.00"), (2022, "221500.00"), (2023, "224000.00"), (2024, "224000.00")),
    ),
    _Stream(
        "Voluntary and Community Sector Grant",
        "Greater Manchester Combined Authority",
        "Grants to voluntary and community groups, distributed through the Stockport "
        "Local Fund process." + _LATER_YEARS_ILLUSTRATIVE,
        ((2020, "100000.00"), (2022, "100000.00"), (2023, "95000.00"), (2024, "95000.00")),
    ),
    _Stream(
        "Serious Violence Fund",
        "Greater Manchester Combined Authority",
        "Funding to reduce serious violence, particularly knife crime, through a public "
        "health approach with the GM Violence Reduction Unit." + _LATER_YEARS_ILLUSTRATIVE,
        ((2020, "150000.00"), (2022, "150000.00"), (2023, "160000.00"), (2024, "160000.00")),
    ),
    _Stream(
        "Hate Crime Fund",
        "Greater Manchester Combined Authority",
        "Small grants for hate crime awareness and community cohesion." + _LATER_YEARS_ILLUSTRATIVE,
        ((2020, "10000.00"), (2022, "10000.00"), (2023, "12000.00"), (2024, "12000.00")),
    ),
)


@dataclass(frozen=True)
class _Award:
    stream: str
    year: int
    project: str
    amount: str
    recipient_org: str | None  # an organisation key, or None with recipient_name
    recipient_name: str
    priority: tuple[str, str] | None  # (plan key, priority code)
    outcomes: tuple[str, ...]


_CSG, _VCS, _SVF, _HCF = (s.name for s in _STREAMS)
_AWARD_NOTE = "Amount illustrative."
_P18, _P22 = _PLAN_2018.key, _PLAN_2022.key

_AWARDS: Final = (
    # 2020/21: the examples in the SSP Annual Review 2020/21.
    _Award(
        _CSG,
        2020,
        "Independent Domestic Violence Advocates (IDVAs)",
        "85000.00",
        "SMBC",
        "",
        (_P18, "PVP"),
        ("GM-06", "GM-07"),
    ),
    _Award(
        _CSG,
        2020,
        "Target hardening for victims of domestic abuse",
        "25000.00",
        "SHG",
        "",
        (_P18, "PVP"),
        ("GM-06",),
    ),
    _Award(
        _CSG,
        2020,
        "Emergency accommodation for victims of domestic abuse",
        "20000.00",
        "SHG",
        "",
        (_P18, "PVP"),
        ("GM-07",),
    ),
    _Award(
        _CSG,
        2020,
        "Orange Umbrella project",
        "15000.00",
        None,
        "Orange Umbrella project",
        (_P18, "PVP"),
        ("GM-07",),
    ),
    _Award(
        _CSG,
        2020,
        "Target hardening in neighbourhood crime hotspots",
        "22000.00",
        "GMP",
        "",
        (_P18, "PSP"),
        ("GM-15",),
    ),
    _Award(
        _CSG,
        2020,
        "Street improvements to tackle environmental crime",
        "18000.00",
        "SMBC",
        "",
        (_P18, "PSP"),
        ("GM-16",),
    ),
    _Award(
        _CSG,
        2020,
        "Additional no cold calling zones and awareness campaigns",
        "12000.00",
        "SMBC",
        "",
        (_P18, "PSP"),
        ("GM-15", "GM-01"),
    ),
    _Award(_VCS, 2020, "Domestic abuse support", "30000.00", "Owls", "", (_P18, "PVP"), ("GM-07",)),
    _Award(
        _VCS,
        2020,
        "Suicide prevention",
        "20000.00",
        None,
        "Man about a Dog",
        (_P18, "PVP"),
        ("GM-07",),
    ),
    _Award(
        _VCS,
        2020,
        "Diversionary activities for young people",
        "25000.00",
        None,
        "PIE Radio UK",
        (_P18, "SOC"),
        ("GM-11",),
    ),
    _Award(
        _VCS,
        2020,
        "Community cohesion and inclusion projects",
        "20000.00",
        None,
        "Culture Bridge",
        (_P18, "RAE"),
        ("GM-17",),
    ),
    _Award(
        _SVF,
        2020,
        "Schools-based knife crime awareness programme",
        "60000.00",
        "SMBC",
        "",
        (_P18, "SOC"),
        ("GM-11",),
    ),
    _Award(_SVF, 2020, "Education Officer", "35000.00", "SMBC", "", (_P18, "SOC"), ("GM-11",)),
    _Award(
        _SVF, 2020, "Post 16 Learning Mentor", "30000.00", "SMBC", "", (_P18, "SOC"), ("GM-11",)
    ),
    _Award(
        _SVF,
        2020,
        "Parent and carer programme on serious youth violence",
        "20000.00",
        "SMBC",
        "",
        (_P18, "SOC"),
        ("GM-11", "GM-01"),
    ),
    _Award(
        _HCF,
        2020,
        "Black History Month education packs",
        "3500.00",
        "SMBC",
        "",
        (_P18, "PVP"),
        ("GM-17",),
    ),
    _Award(
        _HCF,
        2020,
        "Stockport LGBT+ History Month",
        "3000.00",
        None,
        "Stockport LGBT+ History Month",
        (_P18, "PVP"),
        ("GM-17", "GM-09"),
    ),
    _Award(
        _HCF,
        2020,
        "Making a Difference workshops on recognising hate crime",
        "3000.00",
        "Equity",
        "",
        (_P18, "PVP"),
        ("GM-09",),
    ),
    # 2024/25: the current year of the 2022-25 plan.
    _Award(
        _CSG,
        2024,
        "Independent Domestic Violence Advocates (IDVAs)",
        "92000.00",
        "SMBC",
        "",
        (_P22, "PVP"),
        ("GM-06", "GM-07"),
    ),
    _Award(
        _CSG,
        2024,
        "Specialist stalking advocacy",
        "30000.00",
        "Owls",
        "",
        (_P22, "PVP"),
        ("GM-06", "GM-07"),
    ),
    _Award(
        _CSG,
        2024,
        "Target hardening for victims of domestic abuse and burglary",
        "26000.00",
        "SHG",
        "",
        (_P22, "PSP"),
        ("GM-06", "GM-15"),
    ),
    _Award(
        _CSG,
        2024,
        "Online harm awareness for schools",
        "15000.00",
        "SMBC",
        "",
        (_P22, "PVP"),
        ("GM-07",),
    ),
    _Award(
        _CSG,
        2024,
        "Restorative justice for victims",
        "18000.00",
        "Remedi",
        "",
        (_P22, "ROR"),
        ("GM-14",),
    ),
    _Award(
        _CSG,
        2024,
        "Detached Outreach youth work in ASB hotspots",
        "20000.00",
        "SMBC",
        "",
        (_P22, "PSP"),
        ("GM-15", "GM-16"),
    ),
    _Award(_VCS, 2024, "Domestic abuse support", "25000.00", "Owls", "", (_P22, "PVP"), ("GM-07",)),
    _Award(
        _VCS,
        2024,
        "Suicide prevention",
        "18000.00",
        None,
        "Man about a Dog",
        (_P22, "PVP"),
        ("GM-07",),
    ),
    _Award(
        _VCS,
        2024,
        "Diversionary activities for young people",
        "22000.00",
        None,
        "PIE Radio UK",
        (_P22, "PSP"),
        ("GM-11",),
    ),
    _Award(
        _VCS,
        2024,
        "Community cohesion and inclusion projects",
        "20000.00",
        None,
        "Culture Bridge",
        (_P22, "PVP"),
        ("GM-17",),
    ),
    _Award(
        _SVF,
        2024,
        "Schools-based knife crime awareness programme",
        "65000.00",
        "SMBC",
        "",
        (_P22, "PSP"),
        ("GM-11",),
    ),
    _Award(
        _SVF,
        2024,
        "Parent and carer programme on serious youth violence",
        "25000.00",
        "SMBC",
        "",
        (_P22, "PSP"),
        ("GM-11", "GM-01"),
    ),
    _Award(
        _HCF,
        2024,
        "Hate Crime Awareness Week events",
        "4000.00",
        "SMBC",
        "",
        (_P22, "PVP"),
        ("GM-17",),
    ),
    _Award(
        _HCF,
        2024,
        "Stockport LGBT+ History Month",
        "3000.00",
        None,
        "Stockport LGBT+ History Month",
        (_P22, "PVP"),
        ("GM-17", "GM-09"),
    ),
    _Award(
        _HCF,
        2024,
        "Black History Month education packs",
        "3000.00",
        "SMBC",
        "",
        (_P22, "PVP"),
        ("GM-17",),
    ),
)

# --------------------------------------------------------------------------- risks


@dataclass(frozen=True)
class _Risk:
    ref: str
    title: str
    description: str
    priority: str | None
    owner: str
    likelihood: int
    impact: int
    mitigation: str
    is_open: bool = True


_RISKS: Final = (
    _Risk(
        "R01",
        "Police data availability",
        "Problems with GMP's IT systems meant that police crime and incident data could not "
        "be published for the 2020/21 annual update. A repeat would leave the Board without "
        "validated police figures for measures such as residential burglary and ASB.",
        "PSP",
        "supt",
        3,
        3,
        "Agree a quarterly data schedule with GMP analysts; report provisional figures "
        "clearly marked; use survey and partner data where police data are withheld.",
    ),
    _Risk(
        "R02",
        "Funding uncertainty beyond the current year",
        "Community safety grants are confirmed one year at a time, so multi-year actions "
        "and commissioned services may stop at short notice.",
        None,
        "spm",
        4,
        4,
        "Plan awards so that commitments end with the confirmed allocation; raise the need "
        "for multi-year settlements with GMCA; keep an exit plan for each funded service.",
    ),
    _Risk(
        "R03",
        "Domestic abuse referrals outgrow IDVA capacity",
        "Referrals for domestic abuse continue to rise in number and complexity, and IDVA "
        "caseloads could exceed safe levels.",
        "PVP",
        "da",
        4,
        3,
        "Monthly caseload review with Owls and Stockport Homes; prioritise high-risk cases "
        "through MARAC; bid for additional funding where it becomes available.",
    ),
    _Risk(
        "R04",
        "Capacity for the new focus areas",
        "Online harm and stalking are new to the plan and have no dedicated staff, so "
        "progress depends on partners' existing teams.",
        "PVP",
        "dcs",
        3,
        2,
        "Name a lead for each new area; build the work into existing training and "
        "safeguarding arrangements; review at the annual action plan refresh.",
    ),
    _Risk(
        "R05",
        "Probation workforce vacancies",
        "Vacancies following the reunification of probation services reduce capacity for "
        "Integrated Offender Management and the Intensive Community Order.",
        "ROR",
        "probation",
        3,
        3,
        "Prioritise IOM cases by risk; share recruitment campaigns across GM; report "
        "caseloads to the Reducing Reoffending Board.",
    ),
    _Risk(
        "R06",
        "Delay to the GM Police and Crime Plan",
        "The new GM plan was delayed by the pandemic and the postponed 2020 Mayoral "
        "election, delaying the alignment of the SSP plan.",
        None,
        "spm",
        2,
        2,
        "The SSP plan was aligned with 'Standing Together' and approved for 1 April 2022; "
        "risk closed.",
        is_open=False,
    ),
)

# --------------------------------------------------------------------------- board pack

_MEETING_TITLE = "SSP Board"
_MEETING_VENUE = "Stockport Town Hall"
_PACK_SUBJECT = (
    "Safer Stockport Partnership Plan 2022-25: quarterly performance report, "
    f"{SAMPLE_QUARTER.label}"
)
_PACK_REPORT_OF = "Strategy and Performance Team Manager"
_PACK_SUMMARY = (
    "This report sets out progress with the Safer Stockport Partnership Plan 2022-25 for "
    f"{SAMPLE_QUARTER.months_label} ({SAMPLE_QUARTER.label}). It covers the actions in the "
    "2024/25 action plan under the three strategic priorities (Protecting Vulnerable "
    "People, Public Safety and Protection, Reducing Offending and Reoffending), "
    "performance against the plan's measures with GM and England comparators where they "
    "exist, funding awards for 2024/25 and the risk register. Exceptions this quarter "
    "include a rise in knife crime offences, successful completions for non-opiate users "
    "below target, and police figures for residential burglary that had not been "
    "validated in time for this report."
)
_PACK_RECOMMENDATIONS = (
    "The Board is asked to:\n"
    "(a) note progress with delivering the 2024/25 action plan and performance against the "
    "plan's measures;\n"
    "(b) agree the recovery actions proposed for the exceptions rated Red;\n"
    "(c) note the funding awards made in 2024/25 and the risk register;\n"
    "(d) note that the annual update to Communities and Housing Scrutiny Committee will be "
    "prepared from the year-end position."
)
_PACK_CONTACT = (
    "Strategy and Performance Team Manager, Stockport Council. Tel: 0161 496 0123. "
    "Email: strategy.performance@stockport.example"
)

# --------------------------------------------------------------------------- writing

R = TypeVar("R", bound=Record)


def write_sample(store: Store) -> SampleSummary:
    """Write the sample plan into an empty store and flag the store as sample.

    One transaction, so a failure leaves the store as it was. Refuses a store that
    already holds a partnership rather than mixing the sample into real data.
    """
    with store.transaction(actor=SAMPLE_ACTOR, source=SAMPLE_SOURCE) as tx:
        if tx.session.scalar(select(Partnership.id).limit(1)) is not None:
            raise DomainError(
                f"{store.path} already holds a partnership, so the sample plan was not "
                "written. Create a new, empty store for the sample."
            )
        summary = _Writer(tx, random.Random(_SEED)).write()
    store.set_meta(sample="1")
    return summary


class _Writer:
    """Writes the module's data in dependency order, keeping the records it made by key."""

    def __init__(self, tx: Transaction, rng: random.Random) -> None:
        self.tx = tx
        self.rng = rng
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

    def add(self, obj: R) -> R:
        # Ids are given here rather than at flush so that children can point at parents
        # still pending in the same flush.
        if getattr(obj, "id", None) is None:
            obj.id = uuid.uuid4()
        self.counts[type(obj)] += 1
        return self.tx.add(obj)

    def write(self) -> SampleSummary:
        partnership = self.add(
            Partnership(
                name=_PARTNERSHIP_NAME, area=_PARTNERSHIP_AREA, description=_PARTNERSHIP_DESCRIPTION
            )
        )
        self.write_people(partnership)
        self.write_frameworks(partnership)
        self.tx.flush()
        for plan in _PLANS:
            self.write_plan(partnership, plan)
        self.tx.flush()
        self.write_measures(self.plans[_CURRENT_PLAN])
        self.tx.flush()
        for plan_key, actions in _ACTIONS.items():
            for position, spec in enumerate(actions):
                self.write_action(plan_key, spec, position)
        self.write_funding(partnership)
        self.write_risks(self.plans[_CURRENT_PLAN])
        self.write_board(partnership, self.plans[_CURRENT_PLAN])
        self.tx.flush()
        return self.summary()

    def summary(self) -> SampleSummary:
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
            current_plan_id=self.plans[_CURRENT_PLAN].id,
        )

    # -- people and frameworks -----------------------------------------------------------

    def write_people(self, partnership: Partnership) -> None:
        domains = {o.key: o.mail_domain for o in _ORGANISATIONS}
        for o in _ORGANISATIONS:
            self.orgs[o.key] = self.add(
                Organisation(
                    partnership_id=partnership.id,
                    name=o.name,
                    short_name=o.key,
                    sector=o.sector,
                    responsible_authority=o.responsible_authority,
                )
            )
        for p in _PEOPLE:
            self.people[p.key] = self.add(
                Person(
                    partnership_id=partnership.id,
                    name=p.role,
                    role_title=p.role,
                    organisation_id=self.orgs[p.org].id,
                    email=f"{p.mailbox}@{domains[p.org]}",
                )
            )

    def write_frameworks(self, partnership: Partnership) -> None:
        for fw in _FRAMEWORKS:
            framework = self.frameworks[fw.key] = self.add(
                OutcomeFramework(
                    partnership_id=partnership.id,
                    name=fw.name,
                    short_name=fw.short_name,
                    owner=fw.owner,
                    description=fw.description,
                )
            )
            position = 0
            for group, outcomes in fw.groups:
                for code, title, *description in outcomes:
                    self.outcomes[code] = self.add(
                        Outcome(
                            framework_id=framework.id,
                            code=code,
                            title=title,
                            group_name=group,
                            description="".join(description),
                            position=position,
                        )
                    )
                    position += 1

    # -- plans ---------------------------------------------------------------------------

    def write_plan(self, partnership: Partnership, spec: _Plan) -> None:
        plan = self.plans[spec.key] = self.add(
            Plan(
                partnership_id=partnership.id,
                title=spec.title,
                start_year=FinancialYear(spec.start),
                end_year=FinancialYear(spec.end),
                status=spec.status,
                in_force_from=spec.in_force_from,
                vision=spec.vision,
                summary=spec.summary,
            )
        )
        for position, step in enumerate(spec.approvals):
            self.add(
                PlanApproval(
                    plan_id=plan.id,
                    body=step.body,
                    meeting_date=step.date,
                    decision_ref=step.decision_ref,
                    resolution=step.resolution,
                    position=position,
                )
            )
        for key in spec.frameworks:
            self.add(PlanFramework(plan_id=plan.id, framework_id=self.frameworks[key].id))
        for position, p in enumerate(spec.priorities):
            priority = self.priorities[spec.key, p.code] = self.add(
                Priority(
                    plan_id=plan.id,
                    code=p.code,
                    title=p.title,
                    description=p.description,
                    lead_person_id=self.people[p.lead].id,
                    position=position,
                )
            )
            for code in p.outcomes:
                self.add(
                    PriorityOutcome(priority_id=priority.id, outcome_id=self.outcomes[code].id)
                )
            for area_position, area in enumerate(p.areas):
                self.areas[spec.key, area.key] = self.add(
                    PriorityArea(
                        priority_id=priority.id,
                        title=area.title,
                        description=area.description,
                        position=area_position,
                    )
                )

    # -- measures ------------------------------------------------------------------------

    def write_measures(self, plan: Plan) -> None:
        for position, m in enumerate(_MEASURES):
            measure = self.measures[m.ref] = self.add(
                Measure(
                    plan_id=plan.id,
                    priority_id=self.priorities[_CURRENT_PLAN, m.priority].id,
                    ref=m.ref,
                    name=m.name,
                    definition=m.definition,
                    unit=m.unit,
                    rate_basis=m.rate_basis,
                    polarity=m.polarity,
                    frequency=m.frequency,
                    data_source=m.source,
                    owner_person_id=self.people[m.owner].id,
                    baseline_value=m.baseline[0],
                    baseline_period=m.baseline[1],
                    tolerance=m.tolerance,
                    tolerance_mode=m.mode,
                    stable_threshold=m.stable_threshold,
                    decimals=m.decimals,
                    comparator_names=[m.comparator] if m.comparator else [],
                    illustrative=True,
                    position=position,
                )
            )
            for code in m.outcomes:
                self.add(MeasureOutcome(measure_id=measure.id, outcome_id=self.outcomes[code].id))
        self.tx.flush()
        for m in _MEASURES:
            self.write_measure_values(self.measures[m.ref], m)

    def write_measure_values(self, measure: Measure, m: _Measure) -> None:
        if m.targets is not None:
            for year, target in zip(range(2022, 2025), m.targets, strict=True):
                services.set_target(self.tx, measure, FinancialYear(year), target)
        if m.seed_value is not None and m.comparator is not None:
            s = m.seed_value
            # The survey's flag compares Stockport with GM, not with an earlier wave.
            self.record(
                measure,
                s.period,
                s.value,
                {m.comparator: s.comparator},
                ValueStatus.FINAL,
                s.note,
                None,
                comparator_significant=s.significant,
            )
        periods = (
            _QUARTERS if m.frequency is not _ANNUAL else tuple(q for q in _QUARTERS if q.q == 4)
        )
        values = m.values or self.series(m.trend, periods, m.decimals)
        comparators = m.comparator_values or self.series(m.comparator_trend, periods, m.decimals)
        overrides = {q: (value, note) for q, value, note in m.overrides}
        for i, period in enumerate(periods):
            value, note = overrides.get(period, (values[i], ""))
            latest = period == SAMPLE_QUARTER
            if latest and not note:
                note = "Provisional: subject to validation."
            self.record(
                measure,
                period,
                value,
                {m.comparator: comparators[i]} if m.comparator else {},
                ValueStatus.PROVISIONAL if latest else ValueStatus.FINAL,
                note,
                m.significant[i] if m.significant is not None else None,
            )

    def record(
        self,
        measure: Measure,
        period: Quarter,
        value: float | None,
        comparators: dict[str, float],
        status: ValueStatus,
        note: str,
        significant: bool | None,
        *,
        comparator_significant: bool | None = None,
    ) -> None:
        services.record_value(
            self.tx,
            measure,
            period,
            value,
            comparators=comparators,
            status=status,
            note=note,
            significant=significant,
            comparator_significant=comparator_significant,
        )
        self.counts[MeasureValue] += 1

    def series(
        self, trend: _Trend | None, periods: tuple[Quarter, ...], decimals: int
    ) -> tuple[float, ...]:
        """The trend's values for ``periods``: a straight line, seasonal shape and noise."""
        if trend is None:
            return ()
        last = max(len(periods) - 1, 1)
        return tuple(
            round(
                trend.start
                + (trend.end - trend.start) * i / last
                + trend.seasonal[q.q - 1]
                + self.rng.uniform(-trend.noise, trend.noise),
                decimals,
            )
            for i, q in enumerate(periods)
        )

    # -- actions -------------------------------------------------------------------------

    def write_action(self, plan_key: str, spec: _Action, position: int) -> None:
        # Archived-plan actions have no letters, so zip stops short of the quarters.
        updated = [(q, code) for q, code in zip(_QUARTERS, spec.rags, strict=False) if code != "."]
        action = services.add_action(
            self.tx,
            self.areas[plan_key, spec.area],
            ref=spec.ref,
            title=spec.title,
            description=spec.description,
            lead_organisation_id=self.orgs[spec.lead_org].id,
            lead_person_id=self.people[spec.lead].id,
            start_date=spec.start,
            due_date=spec.due,
            delivery_year=FinancialYear.of(spec.due),
            status=spec.status,
            # Actions with a quarterly history take their RAG from it; the archived plan's
            # actions have none, and closed Green.
            rag=None if updated else Rag.GREEN,
            position=position,
            id=uuid.uuid4(),
        )
        self.counts[Action] += 1
        for key in spec.partners:
            self.add(ActionPartner(action_id=action.id, organisation_id=self.orgs[key].id))
        for code in spec.outcomes:
            self.add(ActionOutcome(action_id=action.id, outcome_id=self.outcomes[code].id))
        for ref in spec.measures:
            self.add(ActionMeasure(action_id=action.id, measure_id=self.measures[ref].id))
        for k, (quarter, code) in enumerate(updated):
            self.write_update(
                action, spec, k, quarter, _RAG_CODES[code], final=k == len(updated) - 1
            )

    def write_update(
        self,
        action: Action,
        spec: _Action,
        k: int,
        quarter: Quarter,
        rag: Rag | None,
        *,
        final: bool,
    ) -> None:
        written_on = quarter.end_date + dt.timedelta(days=self.rng.randint(14, 21))
        state = UpdateState.SUBMITTED if quarter == SAMPLE_QUARTER else UpdateState.ACCEPTED
        narrative = self.narrative(spec, k, quarter, rag, final=final)
        author = self.people[spec.lead].id
        ref, revised_quarter, first_rag, first_narrative = _REVISION
        if (spec.ref, quarter) == (ref, revised_quarter):
            services.write_update(
                self.tx,
                action,
                quarter,
                rag=first_rag,
                narrative=first_narrative,
                written_on=written_on,
                author_person_id=author,
                state=UpdateState.SUBMITTED,
            )
            self.counts[ActionUpdate] += 1
            written_on += dt.timedelta(days=7)
            narrative = f"{_REVISED_PREFIX} {narrative}"
        services.write_update(
            self.tx,
            action,
            quarter,
            rag=rag,
            narrative=narrative,
            written_on=written_on,
            author_person_id=author,
            state=state,
        )
        self.counts[ActionUpdate] += 1

    def narrative(
        self, spec: _Action, k: int, quarter: Quarter, rag: Rag | None, *, final: bool
    ) -> str:
        """A progress note made from the action's own phrases and the quarter's RAG."""
        if rag is None:
            return f"Not yet started: due to begin in {spec.start:%B %Y} ({spec.issue})."
        closing = final and spec.status is ActionStatus.COMPLETE
        if spec.seasonal:
            step = spec.steps[quarter.q - 1]
        else:
            step = spec.steps[-1 if closing else k % len(spec.steps)]
        if spec.metric is not None:
            template, low, high = spec.metric
            step += "; " + template.format(n=self.rng.randint(low, high))
        sentences = [step + "."]
        if closing:
            sentences.append(
                f"Action complete and closed by the {spec.forum}."
                if rag is Rag.GREEN
                else f"Action complete, but {spec.issue}; left {rag.word} so that the Board "
                "sees the gap."
            )
        elif final and spec.status is ActionStatus.DEFERRED:
            sentences.append(
                f"Deferred by the SSP Board because {spec.issue}; to be reconsidered when the "
                "action plan is refreshed."
            )
        else:
            sentences.append(self.rng.choice(_RAG_SENTENCES[rag]).format(issue=spec.issue))
            sentences.append(f"Progress reported to the {spec.forum}.")
        if quarter.q == 1:
            sentences.append(
                f"Milestones for {quarter.fy.label} confirmed in the refreshed action plan."
            )
        elif quarter.q == 4:
            sentences.append("Year-end position summarised for the annual scrutiny update.")
        return " ".join(sentences)

    # -- funding, risks and the board ----------------------------------------------------

    def write_funding(self, partnership: Partnership) -> None:
        for s in _STREAMS:
            self.streams[s.name] = self.add(
                FundingStream(
                    partnership_id=partnership.id,
                    name=s.name,
                    funder=s.funder,
                    description=s.description,
                )
            )
        self.tx.flush()
        for s in _STREAMS:
            for year, amount in s.allocations:
                services.set_allocation(
                    self.tx, self.streams[s.name].id, FinancialYear(year), Decimal(amount)
                )
        for a in _AWARDS:
            award = self.add(
                FundingAward(
                    stream_id=self.streams[a.stream].id,
                    year=FinancialYear(a.year),
                    project=a.project,
                    recipient_organisation_id=self.orgs[a.recipient_org].id
                    if a.recipient_org
                    else None,
                    recipient_name=a.recipient_name,
                    amount=Decimal(a.amount),
                    priority_id=self.priorities[a.priority].id if a.priority else None,
                    description=_AWARD_NOTE,
                )
            )
            for code in a.outcomes:
                self.add(FundingAwardOutcome(award_id=award.id, outcome_id=self.outcomes[code].id))

    def write_risks(self, plan: Plan) -> None:
        for r in _RISKS:
            self.add(
                Risk(
                    plan_id=plan.id,
                    priority_id=self.priorities[_CURRENT_PLAN, r.priority].id
                    if r.priority
                    else None,
                    ref=r.ref,
                    title=r.title,
                    description=r.description,
                    owner_person_id=self.people[r.owner].id,
                    likelihood=r.likelihood,
                    impact=r.impact,
                    mitigation=r.mitigation,
                    is_open=r.is_open,
                )
            )

    def write_board(self, partnership: Partnership, plan: Plan) -> None:
        meeting = self.add(
            BoardMeeting(
                partnership_id=partnership.id,
                title=_MEETING_TITLE,
                meeting_date=SAMPLE_MEETING_DATE,
                venue=_MEETING_VENUE,
            )
        )
        self.add(
            BoardPack(
                meeting_id=meeting.id,
                plan_id=plan.id,
                quarter=SAMPLE_QUARTER,
                status=PackStatus.DRAFT,
                subject=_PACK_SUBJECT,
                report_of=_PACK_REPORT_OF,
                key_decision=False,
                summary=_PACK_SUMMARY,
                recommendations=_PACK_RECOMMENDATIONS,
                contact_officer=_PACK_CONTACT,
                protective_marking="OFFICIAL",
            )
        )
