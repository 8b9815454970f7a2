"""``forget(project, out, options) -> ForgetReport``: remove every trace of runners who left.

A runner's traces (see ``publish/layout.py``): ``OUT/guides/<brand>/<id>.{pdf,html,ics}``
in every brand folder (and temp files of a killed write); ``OUT/site/plans/<token>/`` (the
token is the HMAC of the id with the plan secret; without the secret, the folder the
manifests recorded); the id's entry in ``OUT/manifest.json`` and every shard manifest;
``OUTBOX/<id>.eml`` in each outbox given; the send log's rows (address, Message-IDs). Only
a salted hash of the id and the date stay (``SendLog.forget``), so ``guidegen email``
holds a runner who comes back instead of sending to them as if they were new.

Atomic per runner: what will be removed is first recorded in the send log (the intent,
``SendLog.begin_forget``); then the files, plan folder, outbox messages and manifest
entries go (each step can be repeated); the last step deletes the send-log rows, records
the hash and clears the intent in one transaction. A forget killed midway leaves its
intent: the next ``guidegen forget`` finishes it first, and ``guidegen email`` waits.
A runner still in the project roster is refused: the next build would make them again.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from generator.core.errors import (
    EXIT_INVALID_INPUT,
    EXIT_OK,
    ConfigError,
    GuidegenError,
    Problem,
    UsageError,
    display_path,
)
from generator.core.vocab import counted
from generator.core.write import TEMP_RE
from generator.deliver.sendlog import RunLock, SendLog
from generator.load.athlete import ID_RE
from generator.load.project import Project
from generator.publish.layout import FORMATS, OutputLayout
from generator.publish.layout import remove_empty_parents as _remove_empty_parents
from generator.publish.manifest import Manifest
from generator.publish.plans import plan_secret, plan_token


@dataclass
class ForgetOptions:
    ids: tuple[str, ...] = ()
    keep_roster: Path | None = None  # --roster FILE: forget everyone recorded not in FILE
    outboxes: tuple[Path, ...] = ()
    dry_run: bool = False
    today: str | None = None  # YYYY-MM-DD recorded with the hash (default: today, UTC)


@dataclass
class Removal:
    """What forgetting one runner removes (the send log holds it while that is under way)."""

    athlete_id: str
    date: str
    files: list[str] = field(default_factory=list)  # relative to OUT
    plan_dirs: list[str] = field(default_factory=list)  # relative to OUT
    manifests: list[str] = field(default_factory=list)  # relative to OUT, with an entry
    outbox: list[str] = field(default_factory=list)  # absolute paths
    sendlog_rows: int = 0

    def empty(self) -> bool:
        return not (self.files or self.plan_dirs or self.manifests or self.outbox
                    or self.sendlog_rows)


@dataclass
class Outcome:
    """One runner forgotten (or, in a dry run, what would be): one item per line."""

    athlete_id: str
    items: list[tuple[str, str]] = field(default_factory=list)  # (kind, what)
    rows: int = 0  # send-log rows deleted
    resumed: bool = False  # finished what an interrupted forget left


@dataclass
class ForgetReport:
    dry_run: bool = False
    forgotten: list[Outcome] = field(default_factory=list)
    unknown: dict[str, str | None] = field(default_factory=dict)  # id -> date forgotten
    refused: list[str] = field(default_factory=list)  # still in the project roster
    problems: list[Problem] = field(default_factory=list)  # refused, kept, unlocatable
    notes: list[str] = field(default_factory=list)
    scrubbed: bool = True

    def exit_code(self) -> int:
        bad = any(p.severity == "error" for p in self.problems) or not self.scrubbed
        return EXIT_INVALID_INPUT if bad else EXIT_OK

    def counts(self) -> dict[str, int]:
        """What was (or would be) removed, by kind, for ``--report`` and the summary."""
        kinds = ("file", "plan page", "outbox message", "manifest entry")
        totals = {k: sum(1 for o in self.forgotten for kind, _ in o.items if kind == k)
                  for k in kinds}
        totals["send-log row"] = sum(o.rows for o in self.forgotten)
        return totals

    def line(self) -> str:
        head = "forget (dry run, nothing removed): would forget" if self.dry_run else "forget:"
        parts = ", ".join(counted(n, k) for k, n in self.counts().items())
        return (f"{head} {counted(len(self.forgotten), 'runner')} ({parts}); "
                f"{len(self.refused)} refused, {len(self.unknown)} unknown")


# --------------------------------------------------------------------- the command

def forget(project: Project, out: Path, options: ForgetOptions) -> ForgetReport:
    """Forget ``options.ids`` (and, with ``keep_roster``, everyone recorded in OUT who is
    not in it), after finishing what an interrupted forget left in the send log."""
    for athlete_id in options.ids:
        if not ID_RE.match(athlete_id):
            raise UsageError(f"{athlete_id!r} is not a runner id ([A-Za-z0-9_-], 1-64)")
    layout = OutputLayout(out)
    report = ForgetReport(dry_run=options.dry_run)
    today = options.today or dt.datetime.now(dt.UTC).date().isoformat()
    staying = (RosterView.read(project.roster_path, project.root, "the 'roster' of "
                               "guidegen.toml") if project.roster_path else RosterView())
    keep = None
    if options.keep_roster is not None:
        keep = RosterView.read(options.keep_roster, project.root, "--roster")
        if not keep.lines:  # an export gone wrong must not forget every runner
            raise UsageError(f"{keep.shown} has no valid runners; refusing to forget every "
                             "runner not in it")
    secret = None  # without it, plan pages are found from the manifests
    with contextlib.suppress(ConfigError):
        secret = plan_secret(project.config.plans.secret_env)
    lock = (RunLock(layout.sendlog_lock) if layout.out.is_dir() and not options.dry_run
            else contextlib.nullcontext())
    with lock:
        with SendLog(layout.sendlog, readonly=True) as view:
            pending = [_removal(i, text, view) for i, text in view.intents().items()]
            targets = list(dict.fromkeys(options.ids))
            if keep is not None:
                targets += _leavers(layout, view, options.outboxes, keep, report)
            removals = []
            for athlete_id in dict.fromkeys(targets):
                if any(r.athlete_id == athlete_id for r in pending):
                    continue  # finished below from its intent
                refusal = staying.refusal(athlete_id)
                if refusal is not None:
                    report.refused.append(athlete_id)
                    report.problems.append(refusal)
                    continue
                removal = plan_removal(layout, athlete_id, today, secret, options.outboxes,
                                       view, report)
                if removal.empty():  # nothing stored; maybe forgotten already
                    report.unknown[athlete_id] = view.forgotten_on([athlete_id]).get(athlete_id)
                else:
                    removals.append(removal)
        todo = [*pending, *removals]
        writer = (SendLog(layout.sendlog) if todo and not options.dry_run  # None: dry run
                  else contextlib.nullcontext())
        with writer as log:
            for removal in todo:
                if log is not None:  # the intent first: a rerun finishes what it lists
                    log.begin_forget(removal.athlete_id, json.dumps(asdict(removal)))
                report.forgotten.append(apply(removal, layout, log))
                report.forgotten[-1].resumed = removal in pending
                if log is not None:
                    report.scrubbed &= log.scrub()
            if log is not None:
                report.scrubbed &= log.scrub(vacuum=True)
    return report


def _removal(athlete_id: str, text: str, log: SendLog) -> Removal:
    """An intent an interrupted forget left in the send log, as a Removal."""
    try:
        removal = Removal(**json.loads(text))
    except (ValueError, TypeError) as exc:
        raise GuidegenError(f"the send log holds an unreadable intent of an interrupted "
                            f"forget ({exc})", path=str(log.path)) from None
    if removal.athlete_id != athlete_id or not ID_RE.match(athlete_id):
        raise GuidegenError(f"the send log holds an intent of an interrupted forget for a "
                            f"bad runner id {athlete_id!r}", path=str(log.path))
    removal.sendlog_rows = len(log.rows(athlete_id))
    return removal


# --------------------------------------------------------------------- finding

def plan_removal(layout: OutputLayout, athlete_id: str, today: str, secret: bytes | None,
                 outboxes, log: SendLog, report: ForgetReport) -> Removal:
    """Everything stored for the runner, found without changing anything."""
    removal = Removal(athlete_id, today)
    out = layout.out
    if layout.guides.is_dir():
        for brand in sorted(layout.guides.iterdir()):
            if brand.is_dir() and not brand.is_symlink():
                removal.files += [layout.relative(p) for p in _own_files(brand, athlete_id,
                                                                         FORMATS)]
    plan_dirs: dict[str, str] = {}  # rel -> how it was found
    if secret is not None:
        folder = layout.plans / plan_token(secret, athlete_id)
        if folder.exists() or folder.is_symlink():
            plan_dirs[layout.relative(folder)] = "secret"
    for manifest in layout.manifests():
        entry = Manifest.recorded(manifest).get(athlete_id)
        if entry is None:
            continue
        removal.manifests.append(layout.relative(manifest))
        for rel in entry.get("files") or ():
            parts = PurePosixPath(str(rel)).parts
            if ".." in parts or not parts or PurePosixPath(str(rel)).is_absolute():
                continue
            if parts[:2] == ("site", "plans") and len(parts) > 3:
                folder = layout.plans / parts[2]
                if folder.exists() and layout.relative(folder) not in plan_dirs:
                    plan_dirs[layout.relative(folder)] = "manifest"
            elif (out / rel).is_file() and rel not in removal.files:
                removal.files.append(str(rel))
    removal.plan_dirs = sorted(plan_dirs)
    for folder in outboxes:
        if folder.is_dir():
            removal.outbox += [str(p.absolute()) for p in _own_files(folder, athlete_id,
                                                                     ("eml",))]
    removal.sendlog_rows = len(log.rows(athlete_id))
    if secret is None and removal.plan_dirs:
        report.notes.append(f"{athlete_id}: plan page found from the manifest (the plan "
                            "secret is not set)")
    elif secret is None and not removal.empty() and layout.plans.is_dir() and any(
            p.is_dir() for p in layout.plans.iterdir()):
        report.problems.append(Problem(
            display_path(layout.plans), None, f"{athlete_id}: the plan secret is not set and "
            "no manifest records this runner's plan page, so it was not looked for; set "
            "$GUIDEGEN_PLAN_SECRET and run guidegen forget again", "plan page",
            athlete_id=athlete_id))
    return removal


def _own_files(folder: Path, athlete_id: str, suffixes) -> list[Path]:
    """``<id>.<suffix>`` in ``folder``, and temp files a killed write of one left."""
    found = [folder / f"{athlete_id}.{s}" for s in suffixes]
    found = [p for p in found if p.is_file() or p.is_symlink()]
    prefixes = tuple(f".{athlete_id}.{s}." for s in suffixes)  # ids have no dots
    found += sorted(p for p in folder.glob(f".{athlete_id}.*.tmp")
                    if TEMP_RE.match(p.name) and p.name.startswith(prefixes))
    return found


def _leavers(layout: OutputLayout, log: SendLog, outboxes, keep: RosterView,
             report: ForgetReport) -> list[str]:
    """Runners recorded in OUT (manifests, send log, guide files, outbox messages) who
    are not in the roster ``keep``; one kept when a row ``keep`` could not read names it."""
    recorded = set(log.athlete_ids())
    for manifest in layout.manifests():
        recorded.update(Manifest.recorded(manifest))
    folders = [(b, FORMATS) for b in (layout.guides.iterdir() if layout.guides.is_dir()
                                      else ()) if b.is_dir() and not b.is_symlink()]
    for folder, suffixes in [*folders, *((o, ("eml",)) for o in outboxes if o.is_dir())]:
        recorded.update(p.name.rsplit(".", 1)[0] for p in folder.iterdir()
                        if p.name.rsplit(".", 1)[-1] in suffixes and not p.name.startswith("."))
    leavers = []
    for athlete_id in sorted(i for i in recorded if ID_RE.match(i)):
        if athlete_id in keep.lines:
            continue
        line = keep.mentioned(athlete_id)
        if line is not None:
            report.problems.append(Problem(keep.shown, line, f"{athlete_id}: kept: this row "
                                           "could not be read, so guidegen cannot tell whether "
                                           "they are still in the roster", "id", "warning",
                                           athlete_id))
        else:
            leavers.append(athlete_id)
    return leavers


# --------------------------------------------------------------------- removing

def apply(removal: Removal, layout: OutputLayout, log: SendLog | None) -> Outcome:
    """Remove what ``removal`` lists, one line per item (``log`` None: a dry run, which
    only says what would go). Every step can be repeated after a crash."""
    athlete_id, out, root = removal.athlete_id, layout.out, layout.out.resolve()
    outcome = Outcome(athlete_id)

    def remove(kind: str, path: Path, what: str) -> None:
        if log is not None:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()  # a link is removed as a link, never its target
        outcome.items.append((kind, what))

    for rel in removal.files:
        path = out / rel
        if _inside(path.parent, root) and (path.is_file() or path.is_symlink()):
            remove("file", path, rel)
            if log is not None:
                _remove_empty_parents(path.parent, layout.guides)
    for rel in removal.plan_dirs:  # only folders directly under site/plans/
        path = out / rel
        if path.parent.resolve() == layout.plans.resolve() and (path.exists()
                                                                or path.is_symlink()):
            remove("plan page", path, f"{rel}/ ({_count_files(path)} files)")
    for name in removal.outbox:
        path = Path(name)
        mine = path.name == f"{athlete_id}.eml" or path.name.startswith(f".{athlete_id}.eml.")
        if mine and (path.is_file() or path.is_symlink()):
            remove("outbox message", path, display_path(path))
    for rel in removal.manifests:
        if _inside(out / rel, root) and (Manifest.drop(out / rel, athlete_id) if log else
                                         athlete_id in Manifest.recorded(out / rel)):
            outcome.items.append(("manifest entry", f"{rel}: entry {athlete_id}"))
    outcome.rows = log.forget(athlete_id, removal.date) if log else removal.sendlog_rows
    outcome.items.append(("send-log rows", f"{layout.relative(layout.sendlog)}: "
                          f"{counted(outcome.rows, 'row')} (kept: a salted hash of the id "
                          f"and the date {removal.date})"))
    return outcome


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root)


def _count_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


# --------------------------------------------------------------------- rosters

@dataclass
class RosterView:
    """Who is in a roster: the valid rows' ids, and the text of a roster some of whose
    rows could not be read (a runner named there is treated as still in it)."""

    shown: str = ""
    lines: dict[str, int] = field(default_factory=dict)  # id -> row line
    text: str = ""  # only when a row could not be read

    @classmethod
    def read(cls, path: Path, root: Path, what: str) -> RosterView:
        from generator.load.roster import load_roster

        shown = display_path(path, root)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            reason = "not found" if isinstance(exc, FileNotFoundError) else exc.strerror
            raise UsageError(f"roster file {reason} ({what}); guidegen forget cannot tell "
                             "who is still in it", path=shown) from None
        lines: dict[str, int] = {}
        # no brands given: a row whose brand is unknown still keeps its runner
        _, problems = load_roster(path, None, root, lines=lines)
        errors = [p for p in problems if p.severity == "error"]
        text = _decode(raw) if errors else ""
        has_rows = len([line for line in text.splitlines() if line.strip()]) > 1
        if not lines and has_rows and any(p.line is None for p in errors):
            raise GuidegenError(f"cannot read the roster ({what}); guidegen forget cannot "
                                "tell who is still in it", path=shown, problems=errors)
        return cls(shown, lines, text)

    def mentioned(self, athlete_id: str) -> int | None:
        """The line of a row that could not be read and names ``athlete_id``."""
        match = re.search(rf"(?<![A-Za-z0-9_-]){re.escape(athlete_id)}(?![A-Za-z0-9_-])",
                          self.text)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def refusal(self, athlete_id: str) -> Problem | None:
        if athlete_id in self.lines:
            return Problem(self.shown, self.lines[athlete_id], f"{athlete_id} is still in "
                           f"the roster; remove them from {self.shown} first", "id",
                           athlete_id=athlete_id)
        line = self.mentioned(athlete_id)
        if line is not None:
            return Problem(self.shown, line, f"{athlete_id} appears in a row that could not "
                           f"be read; fix that row, or remove them from {self.shown}, first",
                           "id", athlete_id=athlete_id)
        return None


def _decode(raw: bytes) -> str:  # as the roster reader does: UTF-16 with a BOM, else UTF-8
    utf16 = raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    return raw.decode("utf-16" if utf16 else "utf-8-sig", errors="replace")
