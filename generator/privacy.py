"""The runners' personal data: how long outputs keep it, and where it is.

* ``expired``: the retention rule ``build()`` applies. A runner whose race is more than
  ``[plans] keep_days_after_race`` days old (default 60) gets no plan page; more than
  ``[guides] keep_days_after_race`` days (default 0: no limit), no guide either.
* ``inventory``: per kind of store guidegen writes (guides, plan pages, state, send log,
  outbox), the roster fields it holds and how many runners are in it, counted from the
  store itself: ``guidegen privacy``, for a clinic's records of processing.

Personal data leaves the machine only by ``guidegen email`` and in the files the clinic
publishes (OUT/site/, whose plans/<token>/ pages are the runners' own). Console output
and ``--report`` files name runners by id and roster row, never by name or notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from generator.core.errors import display_path
from generator.load.athlete import ID_RE, Athlete
from generator.load.project import Project
from generator.publish.layout import FORMATS, OutputLayout

# what each store holds, in the roster's field names (with the default templates)
PLAN = "the dated massage plan (from training_start, experience, massage_frequency, " \
       "long_run_day, focus_areas)"
GUIDE_FIELDS = ("name", "race_name", "race_date", "distance", "notes", "brand", "locale",
                PLAN)
STORES = {
    "guides": ("id (file names)", *GUIDE_FIELDS),
    "plan pages": GUIDE_FIELDS,
    "state": ("id", "SHA-256 digests of each runner's inputs (their roster row among "
              "them) and files", "plan-page tokens (in file paths)"),
    "send log": ("id", "email", "Message-ID", "delivery state, attempts and times",
                 "the mail server's last reply",
                 "forgotten runners: a salted hash of the id, and the date"),
    "outbox": ("id (file names)", "name", "email", "race_name",
               "the guide attached (PDF and ICS), with everything it holds"),
}


def expired(athletes: Iterable[Athlete], keep_days: int, today: dt.date) -> set[str]:
    """Ids of the runners whose race day was more than ``keep_days`` days before
    ``today``; none when ``keep_days`` is 0 (kept while they are in the roster)."""
    if keep_days <= 0:
        return set()
    return {a.id for a in athletes if (today - a.race_date).days > keep_days}


@dataclass(frozen=True)
class Store:
    """One kind of store: where it is, how many runners and files it holds (None: not
    looked at), what it holds of them, who can read it and how long it is kept."""

    kind: str
    where: str
    runners: int | None
    files: int | None
    fields: tuple[str, ...]
    readers: str
    kept: str

    def to_dict(self) -> dict:
        data = asdict(self)
        data["fields"] = list(self.fields)
        return data


def inventory(project: Project, out: Path, outbox: Path | None = None) -> list[Store]:
    """Every store in ``out`` (and the ``outbox`` folder, when given), counted from what is
    on disk now. Reads only: nothing is created or changed."""
    layout = OutputLayout(out)
    root = project.root

    def shown(path: Path) -> str:
        return display_path(path, root)

    config = project.config
    guide_days, page_days = (config.guides.keep_days_after_race,
                             config.plans.keep_days_after_race)
    guides = _named_files(layout.guides.glob("*/*"), FORMATS)
    folders = layout.plan_folders()
    pages = [p for t in folders for p in (layout.plans / t).rglob("*") if p.is_file()]
    manifests = layout.manifests()
    ids = _manifest_ids(manifests)
    logged = _sendlog_ids(layout.sendlog)
    stores = [
        Store("guides", shown(layout.guides), len({p.stem for p in guides}), len(guides),
              STORES["guides"], "the clinic", _kept(guide_days)),
        Store("plan pages", shown(layout.plans), len(folders), len(pages), STORES["plan pages"],
              "anyone with the runner's private link, once the clinic publishes "
              f"{shown(layout.site)}",
              _kept(page_days, guide_days) if config.plans.enabled
              else "none: plan pages are off, the next build removes any"),
        Store("state", ", ".join(shown(m) for m in manifests) or shown(layout.manifest()),
              len(ids), len(manifests), STORES["state"], "the clinic",
              "as long as the runner's guide"),
        Store("send log", shown(layout.sendlog), len(logged),
              int(layout.sendlog.is_file()), STORES["send log"], "the clinic",
              "until the runner is forgotten (guidegen forget)"),
    ]
    if outbox is None:
        stores.append(Store("outbox", "(pass --outbox DIR)", None, None, STORES["outbox"],
                            "the clinic", "until the clinic deletes it"))
    else:
        messages = _named_files(outbox.glob("*"), ("eml",))
        stores.append(Store("outbox", shown(outbox), len({p.stem for p in messages}),
                            len(messages), STORES["outbox"], "the clinic, to review before "
                            "sending", "until the clinic deletes it"))
    return stores


def _kept(*limits: int) -> str:
    """How long a store keeps a runner: the shortest of its ``keep_days_after_race``
    limits that are set (0: none)."""
    days = min((d for d in limits if d), default=0)
    base = "while the runner is in the roster"
    return f"{base}, and at most {days} days after their race" if days else base


def _named_files(paths: Iterable[Path], suffixes: Iterable[str]) -> list[Path]:
    """The files among ``paths`` named ``<runner id>.<suffix>`` (no temp files)."""
    wanted = {f".{s}" for s in suffixes}
    return sorted(p for p in paths if p.suffix in wanted and ID_RE.match(p.stem)
                  and p.is_file() and not p.is_symlink())


def _manifest_ids(manifests: Iterable[Path]) -> set[str]:
    from generator.publish.manifest import Manifest

    return {i for m in manifests for i in Manifest.recorded(m)}


def _sendlog_ids(path: Path) -> list[str]:
    from generator.deliver.sendlog import SendLog

    with SendLog(path, readonly=True) as log:  # a missing file reads as an empty log
        return log.athlete_ids()
