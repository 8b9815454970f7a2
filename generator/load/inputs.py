"""The load phase: project, modules, brands and roster, with every problem collected."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.core.context import BuildContext
from generator.core.errors import Problem, display_path
from generator.load.brands import Brand, load_brands
from generator.load.content import Module, load_modules
from generator.load.project import Project

if TYPE_CHECKING:  # imported where used: the site needs no roster
    from generator.load.contentcache import ContentCache
    from generator.load.roster import Athlete


@dataclass
class Inputs:
    """Everything a build reads, validated, with every problem found while reading."""

    project: Project
    modules: list[Module]
    brands: dict[str, Brand]
    athletes: list[Athlete] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    context: BuildContext = field(default_factory=BuildContext)
    roster_source: str | None = None  # the roster given, as problems name it
    roster_lines: dict[str, int] = field(default_factory=dict)  # athlete id -> row line
    appointments: dict[str, list] = field(default_factory=dict)  # athlete id -> bookings
    issued: dict[str, dt.date] = field(default_factory=dict)  # first issue, from the state
    published: dict[str, dict] = field(default_factory=dict)  # last published plan (state)
    past: list[Athlete] = field(default_factory=list)  # new runners whose race is over:
    #                                                   no plan, but still subject to expiry

    def issue_date(self, athlete_id: str) -> dt.date:
        """The day the runner's plan was first issued: from the build state, else today
        (``--as-of``, else the real date) for a runner seen for the first time."""
        return self.issued.get(athlete_id) or self.context.today

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def brand_for(self, athlete: Athlete) -> Brand:
        return self.brands[athlete.brand or self.project.settings.default_brand]

    def modules_for(self, athlete: Athlete) -> list[Module]:
        return [m for m in self.modules if m.for_guide(athlete)]


def load_inputs(project: Project, roster: Path | None = None,
                context: BuildContext | None = None, appointments: Path | None = None,
                state: dict[str, dict] | None = None,
                cache: ContentCache | None = None,
                meanwhile: Callable[[dict[str, Brand]], None] | None = None) -> Inputs:
    """Read everything first (MkDocs-style), report every problem at once.

    ``context`` is the build's one reading of SOURCE_DATE_EPOCH (read here when not given).
    ``appointments``: the clinic's bookings (default: guidegen.toml ``appointments``).
    ``state``: each runner's issue date and last published plan, from the build state.
    ``cache``: modules parsed before (``load/contentcache.py``), not parsed again.
    ``meanwhile(brands)``: work of the caller's that needs no module, done while worker
    processes parse the modules (only then: ``core.parallel.pmap``).
    """
    root = project.root
    brands, brand_problems = load_brands(project.brands_dir, root)
    modules, problems = load_modules(project.content_dir, root, cache,
                                     meanwhile and functools.partial(meanwhile, brands))
    problems += brand_problems
    default = project.settings.default_brand
    default_dir = f"{project.settings.brands_dir}/{default}"
    if default not in brands and not any(p.path == default_dir
                                         or p.path.startswith(default_dir + "/")
                                         for p in brand_problems):
        problems.append(Problem("guidegen.toml", None, f"default_brand {default!r} is not a "
                                f"brand in {project.settings.brands_dir}/", "default_brand"))
    inputs = Inputs(project, modules, brands, [], problems,
                    context or BuildContext.from_env())
    if roster is not None:
        from generator.load.roster import load_roster

        lines: dict[str, int] = {}
        athletes, roster_problems = load_roster(roster, set(brands), root, lines=lines)
        inputs.problems += roster_problems
        inputs.roster_source = display_path(roster, root)
        inputs.roster_lines = lines
        # an athlete whose brand failed to load cannot be planned: report, skip
        athletes = [a for a in athletes if (a.brand or default) in brands]
        inputs.published = {i: e for i, e in (state or {}).items() if isinstance(e, dict)}
        inputs.issued = {i: d for i, d in ((i, _date(e.get("issued")))
                                           for i, e in inputs.published.items()) if d}
        inputs.athletes = _not_past(inputs, athletes)
    appointments = appointments or project.appointments_path
    if appointments is not None:
        from generator.load.appointments import load_appointments

        known = {a.id for a in inputs.athletes} if roster is not None else None
        inputs.appointments, found = load_appointments(appointments, root, known)
        inputs.problems += found
    return inputs


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _not_past(inputs: Inputs, athletes: list[Athlete]) -> list[Athlete]:
    """A runner seen for the first time whose race is already over gets no plan: an error
    at its row. (One whose plan was issued before the race keeps it.)"""
    today, kept = inputs.context.today, []
    for a in athletes:
        if a.race_date < today and a.id not in inputs.issued:
            inputs.problems.append(Problem(
                inputs.roster_source or "roster", inputs.roster_lines.get(a.id),
                f"{a.race_date.isoformat()} is already past (today is {today.isoformat()}; "
                "use --as-of to plan as of another day)", "race_date"))
            inputs.past.append(a)
        else:
            kept.append(a)
    return kept
