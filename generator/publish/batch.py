"""The worker pool: every (changed) guide of a roster rendered and written in parallel,
workers that keep their WeasyPrint state, incremental rebuilds from the manifest,
deterministic shards and progress.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import os
import signal
import time
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path

from generator.core.errors import GuidegenError, Problem, display_path
from generator.core.heap import GuideCollector
from generator.core.parallel import cores, worker_pool
from generator.core.write import remove_stale_temps, write_atomic
from generator.load.inputs import Inputs
from generator.pdf.coverage import missing_glyphs, notdef_problems
from generator.plan.guideplan import GuidePlan
from generator.publish.guides import PLAN, GuideMaker
from generator.publish.layout import OutputLayout
from generator.publish.manifest import Manifest, input_digest, output_digest, templates_digest
from generator.publish.saving import ManifestSaver, WriteFailure, stopped_problem
from generator.publish.shardmerge import start_shard
from generator.publish.shards import in_shard, parse_shard

__all__ = ["Summary", "in_shard", "load_manifest", "parse_shard", "run_batch"]

FAST_PATH_MIN_GUIDES = 6  # per worker, see _worth_fast_path
WORKER_GUIDES = 250  # per worker before it is replaced (see _run_pool)
GUIDE_TIMEOUT = 120  # seconds per guide, unless $GUIDEGEN_GUIDE_TIMEOUT says otherwise
CHUNK = 50  # guides per task without PDFs (see _chunk_size)


def _env_count(name: str, default: int) -> int:
    """$name if it is a positive integer, else ``default`` (read when a batch runs,
    so a bad value never breaks an import)."""
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def guide_timeout() -> int:
    """Seconds one guide may take: $GUIDEGEN_GUIDE_TIMEOUT or GUIDE_TIMEOUT."""
    return _env_count("GUIDEGEN_GUIDE_TIMEOUT", GUIDE_TIMEOUT)


@dataclass
class Summary:
    built: int = 0
    unchanged: int = 0
    failed: int = 0
    removed: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)
    expired: int = 0  # runners still in the roster whose guides were removed (build.py)

    def counts(self) -> dict:
        return {"built": self.built, "unchanged": self.unchanged, "failed": self.failed,
                "removed": self.removed, "expired": self.expired,
                "seconds": round(self.seconds, 3)}

    def line(self) -> str:
        expired = f", {self.expired} expired" if self.expired else ""
        return (f"guides: {self.built} built, {self.unchanged} unchanged, {self.failed} failed, "
                f"{self.removed} removed{expired} in {self.seconds:.1f}s")


# ----------------------------------------------------------------- workers

_MAKER: GuideMaker | None = None
_COLLECTOR = GuideCollector()  # per process: garbage collected between guides (core/heap.py)


def _for_workers(inputs: Inputs) -> Inputs:
    """The inputs less the roster and the state, which workers never read (each task
    brings its plans): sent to every fresh worker, 50,000 runners would cost each one
    seconds to unpickle and a copy to hold."""
    return dataclasses.replace(inputs, athletes=[], past=[], problems=[], appointments={},
                               issued={}, published={})


def _init_worker(inputs: Inputs, fast: bool) -> None:
    global _MAKER
    # what the worker was started with (the fork server's modules, the inputs) is never
    # garbage here: left to the collector, its visits would copy every page the fork
    # shares into each worker, and walk the roster again and again
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    # (a worker leaves by itself when the batch is killed: core/parallel.py)
    _MAKER = GuideMaker(inputs)
    _MAKER.fast = fast


class GuideTimeout(BaseException):
    """Not an Exception: code under the alarm (WeasyPrint, Jinja) must not swallow it."""


def _on_alarm(signum, frame):
    raise GuideTimeout()


def _make_one(maker: GuideMaker, plan: GuidePlan, want, formats, token, out: Path):
    """Render one athlete's guide and write its files; returns (id, files, problems,
    error), files being {relative path: sha256}, the error one line of text, a Problem
    located in a template, a tuple of the runner's own located Problems (characters
    WeasyPrint drew as empty boxes: nothing is written) or a WriteFailure (a full disk,
    a read-only folder: the file it hit)."""
    inputs = maker.inputs
    athlete = plan.athlete
    timeout = guide_timeout()
    boxes = contextlib.nullcontext([])
    if "pdf" in want:  # WeasyPrint's import and fonts (once per worker): not this guide's time
        _ = maker.pdf_maker
        boxes = missing_glyphs()  # characters drawn as empty boxes: no PDF for this runner
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(timeout)
    try:
        with _COLLECTOR.guide(), boxes as notdef:
            result = maker.make(plan, want, token)
    except GuideTimeout:
        return athlete.id, [], [], f"rendering took longer than {timeout}s; skipped"
    except GuidegenError as exc:
        if exc.path is None:
            return athlete.id, [], [], _one_line(exc.message)
        where = display_path(Path(exc.path), inputs.project.root)
        return athlete.id, [], [], Problem(where, exc.line, _one_line(exc.message))
    except Exception as exc:  # a bug or a pathological input: report, keep going
        return athlete.id, [], [], _one_line(f"{type(exc).__name__}: {exc}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    if notdef:
        where = (inputs.roster_source or "roster", inputs.roster_lines.get(athlete.id))
        return athlete.id, [], result.problems, tuple(notdef_problems(plan, notdef, *where))
    layout = OutputLayout(out)
    targets = [(path, result.files[fmt]) for fmt, path in
               layout.guide_paths(plan.brand.id, athlete.id).items() if fmt in formats]
    if token is not None:
        targets += [(path, result.files[fmt]) for fmt, path in layout.plan_paths(token).items()]
    written = {}
    for path, data in targets:
        try:  # no fsync each: the batch syncs once before the manifest lists them
            write_atomic(path, data, durable=False)
        except OSError as exc:  # disk full, permissions: this guide fails, not the batch
            return athlete.id, {}, result.problems, WriteFailure.of(exc, path)
        written[layout.relative(path)] = hashlib.sha256(data).hexdigest()
    return athlete.id, written, result.problems, None


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _work(chunk, want, formats, out) -> list:
    """Several guides in one task (see _chunk_size); after a full disk the rest of the
    chunk is left alone (not attempted)."""
    return _make_chunk(_MAKER, chunk, want, formats, out)


def _make_chunk(maker: GuideMaker, chunk, want, formats, out: Path) -> list:
    results = []
    for plan, token in chunk:
        results.append(_make_one(maker, plan, want, formats, token, out))
        error = results[-1][3]
        if isinstance(error, WriteFailure) and error.disk_full:
            break
    return results


def _chunk_size(want, todo: int, jobs: int) -> int:
    """Guides per task: one when PDFs are made (a second each: sending a plan costs
    nothing next to it, and single guides keep the workers evenly busy); else up to
    CHUNK, so the pickled plans, brand and modules cross to a worker once per chunk
    rather than once per millisecond-long HTML or ICS file."""
    if "pdf" in want:
        return 1
    return max(1, min(CHUNK, todo // (jobs * 4)))


# ----------------------------------------------------------------- the batch

def load_manifest(layout: OutputLayout, shard: tuple[int, int] | None, root: Path
                  ) -> Manifest:
    """The manifest of the build (or of its shard). A corrupt one has been set aside and
    reported (``problem``); it is rebuilt at once from the guide files on disk (the
    shard's runners only) and saved, so the guides of runners who left the roster are
    still found and removed, whenever the next batch runs. A shard's first run starts
    from the whole build's manifest (publish/shardmerge.py)."""
    if shard is not None and (first := start_shard(layout, shard, root)) is not None:
        return first
    path = layout.manifest(shard)
    manifest = Manifest.load(path, display_path(path, root), repair=True)
    if manifest.problem is not None:
        manifest.outputs = layout.found_outputs(lambda athlete_id: in_shard(athlete_id, shard))
        with contextlib.suppress(OSError):  # a read-only folder: the batch will say so
            manifest.save()
    return manifest


def run_batch(inputs: Inputs, plans: list[GuidePlan], out: Path, formats: tuple[str, ...], *,
              plan_tokens: dict[str, str] | None = None, jobs: int | None = None,
              force: bool = False, shard: tuple[int, int] | None = None,
              progress=None, blocked: Mapping[str, Sequence[Problem]] | None = None,
              expired: Collection[str] = (), manifest: Manifest | None = None) -> Summary:
    """Build every (changed) guide of ``plans``; one failure never stops the rest.

    Guides of athletes no longer planned are removed (through the layout's prune).
    ``blocked``: runners whose guide must not be made (text no installed font can draw,
    see pdf/coverage.py), with their problems: counted as failed, nothing of theirs is
    made, and like any failed guide their manifest entry is dropped (so the next build
    makes it) while files of an earlier build are left where they are. ``expired``: ids
    left out of ``plans`` because their guides are no longer kept: removed like those of
    runners who left, but not counted as removed (the caller counts them). ``manifest``:
    the shard's manifest if the caller loaded it already (else loaded here).

    A file that cannot be written fails its guide, reported at the file; a full disk
    stops the batch (the rest is not attempted) after recording what was written."""
    started = time.perf_counter()
    summary = Summary()
    layout = OutputLayout(out)
    out.mkdir(parents=True, exist_ok=True)
    # temp files of a batch that was killed mid-write (never counted as outputs)
    remove_stale_temps(out, recursive=False)
    remove_stale_temps(layout.guides, layout.site)
    shown = display_path(layout.manifest(shard), inputs.project.root)
    if manifest is None:
        manifest = load_manifest(layout, shard, inputs.project.root)
        if manifest.problem is not None:
            summary.problems.append(manifest.problem)
    templates = templates_digest(inputs.project)
    config = inputs.project.config.model_dump_json()
    want = formats if plan_tokens is None else tuple(dict.fromkeys((*formats, "pdf", "ics",
                                                                     PLAN)))
    plans = [p for p in plans if in_shard(p.id, shard)]

    # which outputs are stale, which are current, which belong to athletes now gone
    todo, digests = [], {}
    blocked = blocked or {}
    for plan in plans:
        if plan.id in blocked:
            summary.failed += 1
            summary.problems.extend(blocked[plan.id])
            manifest.outputs.pop(plan.id, None)
            continue
        token = plan_tokens.get(plan.id) if plan_tokens else None
        inputs_digest = input_digest(plan, templates, config, inputs.context)
        digests[plan.id] = (output_digest(inputs_digest, want, token), inputs_digest)
        if force or not manifest.is_current(plan.id, digests[plan.id][0], out):
            todo.append(plan)
        else:
            summary.unchanged += 1
    present = {p.id for p in plans}
    gone = sorted(set(manifest.outputs) - present)
    layout.prune(gone=[rel for a in gone for rel in manifest.outputs.pop(a).get("files", [])])
    for athlete_id in set(manifest.state) - present - set(blocked) - set(expired):
        del manifest.state[athlete_id]  # left the roster: its published plan goes too
    # the published plans to remember: only of the guides made now (an unchanged guide's
    # digest covers its published plan, so its state entry already equals it)
    published = {p.id: p.published.to_state() for p in todo if p.published is not None}
    summary.removed = len(set(gone).difference(expired))
    if progress is not None:
        progress.start(len(todo))
    saver = ManifestSaver(manifest, shown)
    if todo:
        manifest.reserve(len(todo))  # room to record them, should the disk fill up
    full: list[WriteFailure] = []  # the first write that found the disk full
    handled = [0]

    def done(result):
        athlete_id, files, problems, error = result
        handled[0] += 1
        summary.problems.extend(problems)
        if error is None:
            summary.built += 1
            manifest.record(athlete_id, *digests[athlete_id], files)
            if athlete_id in published:  # calendars now show this plan: remember it
                manifest.state[athlete_id] = published[athlete_id]
        else:
            summary.failed += 1
            manifest.outputs.pop(athlete_id, None)
            if isinstance(error, tuple):  # the runner's own, located and worded already
                summary.problems.extend(error)
            elif isinstance(error, Problem):  # located in a template: say where
                summary.problems.append(Problem(error.path, error.line,
                                                f"{athlete_id}: {error.message}"))
            elif isinstance(error, WriteFailure):  # at the file, naming the runner
                summary.problems.append(error.problem(athlete_id, inputs))
                if error.disk_full and not full:
                    full.append(error)
            else:
                summary.problems.append(Problem(inputs.roster_source or "roster",
                                                inputs.roster_lines.get(athlete_id),
                                                f"{athlete_id}: {error}"))
        if progress is not None:
            progress.advance()
        saver.tick()  # a crash loses at most about a second of bookkeeping

    def halted() -> bool:
        return bool(full) or saver.disk_full

    jobs = max(1, jobs or cores())
    fast = _worth_fast_path(len(todo), min(jobs, max(1, len(todo))))
    if "pdf" in want and todo:
        from generator.pdf import fontsubset, internals

        if fast:
            fast = internals.reuse_supported()  # else one warning, and plain rendering
        for warning in (internals.fallback_warning() if fast or not
                        internals.reuse_supported() else None, fontsubset.fallback_warning()):
            if warning:
                summary.problems.append(Problem("weasyprint", None, warning,
                                                severity="warning"))
    if fast and "pdf" in want:
        from generator.pdf.fastpdf import reuse_order

        todo.sort(key=reuse_order)  # what the workers' caches hold is what comes next
    if jobs == 1 or len(todo) <= 1:
        maker = GuideMaker(inputs)
        maker.fast = fast
        for plan in todo:
            if halted():
                break
            token = plan_tokens.get(plan.id) if plan_tokens else None
            done(_make_one(maker, plan, want, formats, token, out))
    else:
        _run_pool(inputs, todo, want, formats, plan_tokens, out, min(jobs, len(todo)), done,
                  fast, halted)
    saver.save()
    manifest.release_reserve()
    if progress is not None:
        progress.stop()
    if saver.problem is not None:
        summary.problems.append(saver.problem)
    if halted():  # a full disk: what is left is not attempted, and the rerun makes it
        summary.failed += len(todo) - handled[0]
        summary.problems.append(stopped_problem(display_path(out, inputs.project.root),
                                                full[0] if full else None,
                                                len(todo) - handled[0]))
    summary.seconds = time.perf_counter() - started
    return summary


def _worth_fast_path(guides: int, workers: int) -> bool:
    """Laying shared pages out once costs a few extra layouts per worker up front;
    it pays off from a handful of guides per worker on (a one-guide rebuild is
    faster as a single full render)."""
    return guides >= FAST_PATH_MIN_GUIDES * workers


def worker_guides() -> int:
    """Guides a worker renders before a fresh one replaces it: $GUIDEGEN_WORKER_GUIDES
    or WORKER_GUIDES."""
    return _env_count("GUIDEGEN_WORKER_GUIDES", WORKER_GUIDES)


def _run_pool(inputs, todo, want, formats, plan_tokens, out, jobs, done, fast,
              halted) -> None:
    """Each worker is replaced by a fresh one after worker_guides() guides
    (``max_tasks_per_child``): WeasyPrint's native memory (Pango, HarfBuzz, fontconfig)
    grows slowly with every guide while Python's object count stays flat, so recycling
    keeps a worker's peak memory bounded however long the roster (tests/test_batch.py).
    Workers start from a fork server that imported this module (and WeasyPrint, for
    PDFs) once; the inputs reach each of them pickled, through ``_init_worker``."""
    size = _chunk_size(want, len(todo), jobs)
    preload = [__name__, "weasyprint"] if "pdf" in want else [__name__]
    with worker_pool(jobs, initializer=_init_worker, initargs=(_for_workers(inputs), fast),
                     tasks_per_worker=max(1, worker_guides() // size),
                     preload=preload) as pool:
        # keep a bounded number of tasks in flight: memory stays flat for huge rosters
        pending = set()
        queue = ([(plan, plan_tokens.get(plan.id) if plan_tokens else None)
                  for plan in todo[i:i + size]] for i in range(0, len(todo), size))
        limit = jobs * 4
        while True:
            while len(pending) < limit and not halted():
                chunk = next(queue, None)
                if chunk is None:
                    break
                pending.add(pool.submit(_work, chunk, want, formats, out))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                for result in fut.result():
                    done(result)
