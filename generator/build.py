"""The orchestrator: ``build(project, out, options) -> BuildReport``, one step per phase.

``guidegen build`` (site + guides + plan pages), ``guidegen batch`` (guides of any roster)
and ``guidegen site`` (the site alone) are this one function with different options;
the commands only parse options, call it, print the report and exit with its code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.core.context import BuildContext
from generator.core.errors import EXIT_INVALID_INPUT, EXIT_OK, EXIT_USAGE, Problem
from generator.load.inputs import Inputs, load_inputs
from generator.load.project import Project
from generator.publish.layout import FORMATS, OutputLayout
from generator.publish.plans import plan_tokens

if TYPE_CHECKING:  # imported where used: `guidegen site` needs no planner or worker pool
    from generator.plan.guideplan import GuidePlan
    from generator.publish.batch import Summary


@dataclass
class BuildOptions:
    site: bool = True  # render and publish the public site
    roster: Path | None = None  # whose guides; None: no guides
    formats: tuple[str, ...] = FORMATS
    plan_pages: bool = False  # own OUT/site/plans/: a page per runner when [plans] is
    #                           enabled, and none left behind when it is not
    jobs: int | None = None
    force: bool = False
    shard: tuple[int, int] | None = None
    progress: object = None  # start(n) / advance() / stop(), e.g. cli.progress.BatchProgress
    context: BuildContext | None = None  # default: read from the environment once


@dataclass
class BuildReport:
    inputs: Inputs
    plans: list[GuidePlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    site_built: bool | None = None  # None: not asked for
    guides: Summary | None = None  # None: no roster given
    plan_pages: int | None = None  # None: plan pages not made
    plans_removed: int = 0
    nothing: str | None = None  # why nothing could be built at all

    def exit_code(self, strict: bool = False) -> int:
        """0 all good; 1 some inputs invalid (the rest was built); 2 nothing was built."""
        if self.nothing is not None:
            return EXIT_USAGE
        site_failed = self.site_built is False
        guides = self.guides
        guides_failed = (guides is not None and guides.built + guides.unchanged == 0
                         and guides.failed > 0)
        if (site_failed and (guides is None or guides.built == 0)) or (
                guides_failed and self.site_built is None):
            return EXIT_USAGE
        bad = [p for p in self.problems if p.severity == "error" or strict]
        return EXIT_INVALID_INPUT if bad else EXIT_OK

    def summary(self) -> dict:
        """The counts for ``--report``."""
        data: dict = {}
        if self.site_built is not None:
            data["site"] = self.site_built
        if self.guides is not None:
            data.update(self.guides.counts())
        if self.plan_pages is not None:
            data.update(plan_pages=self.plan_pages, plans_removed=self.plans_removed)
        return data


def build(project: Project, out: Path, options: BuildOptions) -> BuildReport:
    """Load, plan, render and publish; every problem is collected in the report."""
    layout = OutputLayout(out)
    # a missing plan secret fails before any work, not halfway
    if options.plan_pages:
        plan_tokens(project.config.plans, [])  # None when plan pages are disabled

    # 1. load: every input read and validated first, every problem reported at once
    inputs = load_inputs(project, options.roster, options.context)
    report = BuildReport(inputs, problems=list(inputs.problems))
    if options.site and (not inputs.modules or not inputs.brands):
        report.nothing = "nothing to build: no valid content modules or brands"
        return report
    if options.roster is not None and not inputs.athletes:
        # missing, empty, header only or every row bad: publish nothing and prune nothing
        # (an export gone wrong must not delete every guide and plan page)
        report.nothing = f"nothing to build: {inputs.roster_source} has no valid athletes"
        return report

    # 2. plan: each athlete's guide planned once, for every consumer below
    if inputs.athletes:
        from generator.plan.guideplan import plan_guide

    report.plans = [plan_guide(inputs, athlete) for athlete in inputs.athletes]
    for plan in report.plans:
        report.problems.extend(plan.problems)

    # 3-4. render and publish the site (writes OUT/site/, prunes pages it no longer makes)
    if options.site:
        from generator.publish.site import build_site
        from generator.render.renderer import Renderer
        from generator.render.site import site_built

        renderer = Renderer(project.templates_dir, project, inputs.context)
        site_problems = build_site(inputs, renderer, layout)
        report.problems += site_problems
        report.site_built = site_built(site_problems)

    # 3-4. render and publish the guides in a worker pool (only what changed; guides of
    # athletes who left are pruned), with a private plan page each when enabled
    tokens = None
    if options.roster is not None:
        from generator.publish.batch import run_batch

        if options.plan_pages:
            tokens = plan_tokens(project.config.plans, [p.id for p in report.plans])
        # no guide with empty boxes: when PDFs are made (asked for, or in plan pages), a
        # runner whose name, race name or notes, or whose brand's text, has a character no
        # installed font can draw gets none of its files (and no email); the rest build
        blocked = None
        if "pdf" in options.formats or tokens is not None:
            from generator.pdf.coverage import check_plans

            undrawable = check_plans(inputs, report.plans)
            report.problems += undrawable.problems  # brand texts, once per brand
            blocked = undrawable.runners  # reported by the batch, for its shard only
        summary = run_batch(inputs, report.plans, out, options.formats, plan_tokens=tokens,
                            jobs=options.jobs, force=options.force, shard=options.shard,
                            progress=options.progress, blocked=blocked)
        report.problems += summary.problems  # what rendering and writing found
        report.guides = summary

    # 5. prune: plan pages of runners no longer in the roster (or of a rotated secret;
    # every one of them when plan pages were turned off)
    if options.plan_pages:
        report.plan_pages = len(tokens) if tokens is not None else None
        report.plans_removed = layout.prune(plan_tokens=tokens.values() if tokens else ())
    return report
