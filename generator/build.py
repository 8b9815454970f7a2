"""The orchestrator: ``build(project, out, options) -> BuildReport``, one step per phase.

``guidegen build`` (site + guides + plan pages), ``guidegen batch`` (guides of any roster)
and ``guidegen site`` (the site alone) are this one function with different options;
the commands only parse options, call it, print the report and exit with its code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from generator.core.context import BuildContext
from generator.core.errors import EXIT_INVALID_INPUT, EXIT_OK, EXIT_USAGE, Problem
from generator.core.jsonstream import array_item, json_line
from generator.core.lock import output_lock
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
    context: BuildContext | None = None  # default: read from the environment once; its
    #                                      today (--as-of, else the real date, never
    #                                      SOURCE_DATE_EPOCH) starts new plans and expiry
    appointments: Path | None = None  # default: guidegen.toml's 'appointments'
    today: dt.date | None = None  # expiry only, overriding the context's today
    command: str = "build"  # what the output folder's lock says holds it
    wait: bool = True  # another run writing to the folder: wait for it (False: exit 2)
    notify: Callable[[str], None] | None = None  # told why we wait (once), e.g. click.echo
    cache: bool = False  # keep parsed modules and site pages in OUT/.cache/ for the next
    #                      run (load/contentcache.py, render/pagecache.py)


@dataclass
class BuildReport:
    inputs: Inputs
    plans: list[GuidePlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    site_built: bool | None = None  # None: not asked for
    guides: Summary | None = None  # None: no roster given
    plan_pages: int | None = None  # None: plan pages not made
    plans_removed: int = 0  # of runners no longer in the roster (or of a rotated secret)
    plans_expired: int = 0  # of races older than [plans] keep_days_after_race
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
        bad = [p for p in self.problems
               if p.severity == "error" or (strict and p.severity == "warning")]
        return EXIT_INVALID_INPUT if bad else EXIT_OK

    def summary(self) -> dict:
        """The counts for ``--report``."""
        data: dict = {}
        if self.site_built is not None:
            data["site"] = self.site_built
        if self.guides is not None:
            data.update(self.guides.counts())
        if self.plan_pages is not None:
            data.update(plan_pages=self.plan_pages, plans_removed=self.plans_removed,
                        plans_expired=self.plans_expired)
        return data


def build(project: Project, out: Path, options: BuildOptions) -> BuildReport:
    """Load, plan, render and publish; every problem is collected in the report."""
    layout = OutputLayout(out)
    # a missing plan secret fails before any work, not halfway
    if options.plan_pages:
        plan_tokens(project.config.plans, [])  # None when plan pages are disabled
    # one run per output folder: wait for (or refuse, --no-wait) another one writing to it
    with output_lock(out, options.command, shard=options.shard, wait=options.wait,
                     notify=options.notify):
        return _build(project, out, layout, options)


def _build(project: Project, out: Path, layout: OutputLayout,
           options: BuildOptions) -> BuildReport:
    """:func:`build` while it holds the output folder's lock."""
    # 1. load: every input read and validated first, every problem reported at once
    state = manifest = merged = None
    if options.roster is not None:  # each runner's issue date and last published plan
        from generator.publish.batch import load_manifest
        from generator.publish.shardmerge import merge_shards

        if options.shard is None:  # the manifests of shards run since: into manifest.json
            merged = merge_shards(layout, project.root)
        manifest = load_manifest(layout, options.shard, project.root)
        state = manifest.state
    cache = pages = None
    if options.cache:
        from generator.load.contentcache import ContentCache
        from generator.render.pagecache import PageCache

        cache, pages = ContentCache.for_output(out), PageCache.for_output(out)
    context = options.context or BuildContext.from_env()
    renderer = meanwhile = None
    if options.site:
        from generator.publish.site import kept_code
        from generator.render.renderer import Renderer
        from generator.render.sitefiles import warm_site

        renderer = Renderer(project.templates_dir, project, context)

        def meanwhile(brands):  # while workers parse the modules: the site's templates
            warm_site(renderer, project, brands, kept_code(pages, out))
    inputs = load_inputs(project, options.roster, context, options.appointments,
                         state, cache, meanwhile)
    report = BuildReport(inputs, problems=list(inputs.problems))
    if manifest is not None and manifest.problem is not None:  # corrupt: set aside, rebuilt
        report.problems.append(manifest.problem)
    if merged is not None:  # shards that did not finish; a corrupt manifest.json
        report.problems += merged.problems
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
        from generator.render.site import site_built

        site_problems = build_site(inputs, renderer, layout, pages)
        report.problems += site_problems
        report.site_built = site_built(site_problems)

    # retention: runners whose race is older than [guides] / [plans] keep_days_after_race
    # get no guide (their files are removed) / no plan page (its folder is removed)
    config, today = project.config, options.today or inputs.context.today
    runners = inputs.athletes + inputs.past  # a past race never planned still expires
    old_guides: set[str] = set()  # (no runner: nothing expires, and no roster to import)
    old_pages: set[str] = set()
    if runners:
        from generator.privacy import expired

        old_guides = expired(runners, config.guides.keep_days_after_race, today)
        old_pages = old_guides | expired(runners, config.plans.keep_days_after_race, today)
    kept = [p for p in report.plans if p.id not in old_guides]

    # 3-4. render and publish the guides in a worker pool (only what changed; guides of
    # athletes who left or expired are pruned), with a private plan page each when enabled
    tokens = old_tokens = None
    if options.roster is not None:
        from generator.publish.batch import in_shard, run_batch

        if options.plan_pages:
            every = plan_tokens(config.plans, [p.id for p in report.plans])
            if every is not None:
                tokens = {i: t for i, t in every.items() if i not in old_pages}
                old_tokens = {every[i] for i in old_pages}
        # no guide with empty boxes: when PDFs are made (asked for, or in plan pages), a
        # runner whose name, race name or notes, or whose brand's text, has a character no
        # installed font can draw gets none of its files (and no email); the rest build
        blocked = None
        if "pdf" in options.formats or tokens is not None:
            from generator.pdf.coverage import check_plans

            undrawable = check_plans(inputs, kept)
            report.problems += undrawable.problems  # brand texts, once per brand
            blocked = undrawable.runners  # reported by the batch, for its shard only
        # expired guides go from disk whether or not the manifest still lists them
        files = {i: layout.guide_files(i) for i in sorted(old_guides)
                 if in_shard(i, options.shard)}
        layout.prune(gone=[layout.relative(f) for found in files.values() for f in found])
        summary = run_batch(inputs, kept, out, options.formats, plan_tokens=tokens,
                            jobs=options.jobs, force=options.force, shard=options.shard,
                            progress=options.progress, blocked=blocked, expired=old_guides,
                            manifest=manifest)
        summary.expired = sum(1 for found in files.values() if found)
        report.problems += summary.problems  # what rendering and writing found
        report.guides = summary

    # 5. prune: plan pages of runners no longer in the roster or whose race is long past
    # (or of a rotated secret; every one of them when plan pages were turned off)
    if options.plan_pages:
        report.plan_pages = len(tokens) if tokens is not None else None
        present = layout.plan_folders()
        removed = layout.prune(plan_tokens=tokens.values() if tokens else ())
        report.plans_expired = len(present & (old_tokens or set()))
        report.plans_removed = removed - report.plans_expired
    return report


# ------------------------------------------------- check and timeline: every runner planned

@dataclass
class Checked:
    """What planning every runner of a roster found (``guidegen check``)."""

    planned: list[Problem]  # planning warnings, in roster order
    undrawable: list[Problem]  # text no installed font can draw: brands', then runners'
    samples: list[GuidePlan]  # the first runner's plan of each brand, to try templates on


def check_runners(inputs: Inputs) -> Checked:
    """Plan every runner and check their text against the installed fonts, on every core
    and a chunk at a time: a 50,000-runner roster is never all planned at once."""
    from generator.core.parallel import MIN_ITEMS, pstream
    from generator.pdf.coverage import installed
    from generator.plan.guideplan import plan_guide

    if len(inputs.athletes) >= MIN_ITEMS:
        installed()  # the fonts read once, here, and inherited by the workers
    planned: list[Problem] = []
    brands: dict[Problem, None] = {}  # each brand's problems once, in order of first use
    runners: list[Problem] = []
    for found, brand_problems, runner_problems in pstream(
            _check_chunk, range(len(inputs.athletes)), inputs):
        planned += found
        brands.update(dict.fromkeys(brand_problems))
        runners += runner_problems
    first: dict[str, object] = {}
    for athlete in inputs.athletes:
        first.setdefault(inputs.brand_for(athlete).id, athlete)
    return Checked(planned, [*brands, *runners], [plan_guide(inputs, a) for a in first.values()])


def _check_chunk(inputs: Inputs, indices: range):
    from generator.pdf.coverage import check_plans
    from generator.plan.guideplan import plan_guide

    plans = [plan_guide(inputs, inputs.athletes[i]) for i in indices]
    undrawable = check_plans(inputs, plans)
    yield ([p for plan in plans for p in plan.problems], undrawable.problems,
           [p for found in undrawable.runners.values() for p in found])


def timeline_texts(inputs: Inputs, athletes: list, lines: bool = False):
    """Each runner's dated plan as JSON text, in roster order: items of a JSON array
    (``core.jsonstream.json_array`` joins them) or, with ``lines``, JSON Lines. Planned
    and formatted on every core, a chunk at a time (memory stays flat)."""
    from generator.core.parallel import pstream

    return pstream(_timeline_chunk, range(len(athletes)), (inputs, athletes, lines))


def _timeline_chunk(shared, indices: range):
    from generator.plan.guideplan import plan_guide

    inputs, athletes, lines = shared
    for i in indices:
        plan = plan_guide(inputs, athletes[i]).timeline.to_dict()
        yield json_line(plan) if lines else array_item(plan)
