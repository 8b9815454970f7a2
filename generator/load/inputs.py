"""The load phase: project, modules, brands and roster, with every problem collected."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.core.errors import Problem
from generator.load.brands import Brand, load_brands
from generator.load.content import Module, load_modules
from generator.load.project import Project

if TYPE_CHECKING:  # imported where used: the site needs neither roster nor planner
    from generator.load.roster import Athlete
    from generator.plan.timeline import Rule, Timeline


@dataclass
class Inputs:
    project: Project
    modules: list[Module]
    brands: dict[str, Brand]
    athletes: list[Athlete] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

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

    def timeline_for(self, athlete: Athlete) -> Timeline:
        return plan_athlete(athlete, self.modules_for(athlete), self.brand_for(athlete))


def rules_of(modules: list[Module]) -> list[Rule]:
    from generator.plan.timeline import Rule

    rules = []
    for m in modules:
        for r in m.sessions:
            window = r.days_before or r.days_after or (0, 0)
            rules.append(Rule(r.kind, r.pressure, r.duration, tuple(window), r.stop,
                              r.frequency, m.slug))
    return rules


def plan_athlete(athlete: Athlete, modules: list[Module], brand: Brand) -> Timeline:
    from generator.plan.timeline import Calendar, plan

    cal = Calendar.from_names(brand.open_days, brand.appointment_time, brand.timezone)
    return plan(athlete, rules_of(modules), cal)


def load_inputs(project: Project, roster: Path | None = None) -> Inputs:
    """Read everything first (MkDocs-style), report every problem at once."""
    root = project.root
    modules, problems = load_modules(project.content_dir, root)
    brands, brand_problems = load_brands(project.brands_dir, root)
    problems += brand_problems
    default = project.settings.default_brand
    if default not in brands and not any(p.path.startswith(project.settings.brands_dir + "/"
                                                          + default) for p in brand_problems):
        problems.append(Problem("guidegen.toml", None, f"default_brand {default!r} is not a "
                                f"brand in {project.settings.brands_dir}/", "default_brand"))
    inputs = Inputs(project, modules, brands, [], problems)
    if roster is not None:
        from generator.load.roster import load_roster

        athletes, roster_problems = load_roster(roster, set(brands), root)
        inputs.problems += roster_problems
        # an athlete whose brand failed to load cannot be planned: report, skip
        inputs.athletes = [a for a in athletes if (a.brand or default) in brands]
    return inputs
