"""One athlete's guide, planned once: ``plan_guide(inputs, athlete) -> GuidePlan``.

Everything after this phase (the manifest's input digest, the HTML and PDF, the ICS, the
plan page, the email, ``check``, ``timeline`` and the live preview) takes the same
``GuidePlan`` instead of planning the athlete again from the loaded inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.core.errors import Problem
from generator.load.locales import Language, note_fallback, parse_tag
from generator.plan.bookings import check_bookings
from generator.plan.published import Published, follow
from generator.plan.timeline import Calendar, Rule, Session, Timeline, plan, plan_start

if TYPE_CHECKING:
    from generator.load.brands import Brand
    from generator.load.content import Module
    from generator.load.inputs import Inputs
    from generator.load.roster import Athlete


@dataclass(frozen=True)
class Facts:
    """The numbers a guide's text and an email quote."""

    days_total: int
    weeks_total: int
    pre_race: Session | None
    post_race: Session | None
    maintenance_count: int
    first_session: Session | None


@dataclass(frozen=True)
class GuidePlan:
    """What one athlete's guide is made of, in every format and channel."""

    athlete: Athlete
    brand: Brand
    modules: tuple[Module, ...]
    timeline: Timeline
    facts: Facts
    problems: tuple[Problem, ...] = ()  # planning warnings, located at the roster given
    published: Published | None = None  # calendar identity: UIDs, SEQUENCE, what changed
    language: Language | None = None  # what the guide is written in (None: the project's)
    units: str = "km"  # distances: km or mi (the roster's ``units``, else the locale's)
    catalog: str = ""  # sha256 of the language's catalog (its .po): an input of the guide

    @property
    def id(self) -> str:
        return self.athlete.id

    @property
    def dated_modules(self) -> frozenset[str]:
        """The slugs of the modules a dated session points to: they carry this runner's
        dates ("For you"), so a guide lays them out for the runner alone; the others are
        shared word for word by every runner with the same brand, language and distance."""
        return frozenset(s.module for s in self.timeline.sessions if s.module)


def rules_of(modules) -> list[Rule]:
    """The planner's rules from the modules' ``sessions`` front matter."""
    rules = []
    for m in modules:
        for r in m.sessions:
            window = r.days_before or r.days_after or (0, 0)
            rules.append(Rule(r.kind, r.pressure, r.duration, tuple(window), r.stop,
                              r.frequency, m.slug))
    return rules


def calendar_of(brand: Brand) -> Calendar:
    """When the brand's clinic can see a runner."""
    return Calendar.from_names(brand.open_days, brand.appointment_time, brand.timezone,
                               brand.closed)


def facts_of(timeline: Timeline) -> Facts:
    days = (timeline.race_date - timeline.training_start).days
    pre = timeline.of_kind("pre-race")
    post = timeline.of_kind("post-race")
    massages = [s for s in timeline.sessions if s.kind != "race"]
    return Facts(days, math.ceil(days / 7), pre[0] if pre else None, post[0] if post else None,
                 len(timeline.of_kind("maintenance")), massages[0] if massages else None)


def plan_guide(inputs: Inputs, athlete: Athlete, roster_source: str | None = None) -> GuidePlan:
    """Plan one athlete of ``inputs``: brand, modules, timeline, facts and warnings.

    Warnings are located at ``roster_source`` (default: the roster the inputs were loaded
    from, as the user named it) and the athlete's row in it.
    """
    languages = inputs.project.languages
    language = languages.for_tag(athlete.locale)
    brand = inputs.brand_for(athlete).in_language(language.lang)
    # the plan's rules come from the base modules: the same plan in every language
    modules = tuple(m.in_language(language.lang) for m in inputs.modules_for(athlete))
    rules, cal = rules_of(modules), calendar_of(brand)
    issued = inputs.issue_date(athlete.id)
    first = plan_start(athlete, issued)
    appointments = inputs.appointments.get(athlete.id, ())
    bookings, booking_problems = check_bookings(appointments, athlete, cal, first,
                                                {r.kind for r in rules})
    timeline = plan(athlete, rules, cal, issued, bookings)
    booking_problems += [a.problem(f"nothing is planned on {a.date.isoformat()} to cancel",
                                   "date", "warning")
                         for a in bookings
                         if a.status == "cancelled" and a.date not in timeline.cancelled]
    source = roster_source or inputs.roster_source or "roster"
    line = inputs.roster_lines.get(athlete.id)
    problems = tuple(Problem(source, line, f"{athlete.id}: {w}", severity="warning")
                     for w in timeline.warnings) + tuple(booking_problems)
    if language.fell_back:
        default = parse_tag(languages.default_lang).get_display_name("en")
        problems += (Problem(source, line, note_fallback(language, default), "locale", "note",
                             athlete.id),)
    published = follow(inputs.published.get(athlete.id), timeline, issued, inputs.context)
    return GuidePlan(athlete, brand, modules, timeline, facts_of(timeline), problems,
                     published, language, athlete.units or language.units,
                     languages.digests.get(language.lang, ""))
