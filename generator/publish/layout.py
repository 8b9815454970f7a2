"""Where every output lives, and the one place that removes outputs.

```
OUT/site/                      the public site (one file per page, assets, feeds)
OUT/site/plans/<token>/        a runner's private page: index.html, guide.pdf, plan.ics
OUT/guides/<brand>/<id>.<fmt>  the clinic's files (pdf, html, ics)
OUT/manifest.json              what was built from which inputs (one per shard with --shard)
OUT/sendlog.sqlite             what was emailed to whom (and its lock file)
OUT/guidegen.lock              held by the build, batch or email writing here (core/lock.py)
```

Output paths come from validated ids and tokens only, never from raw text.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.render.site import PLANS, PLANS_INDEX

FORMATS = ("pdf", "html", "ics")
PLAN = "plan"  # the private web page (HTML in "plan" mode), made beside the formats
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class OutputLayout:
    out: Path

    @property
    def site(self) -> Path:
        return self.out / "site"

    @property
    def guides(self) -> Path:
        return self.out / "guides"

    @property
    def plans(self) -> Path:
        return self.site / PLANS

    @property
    def sendlog(self) -> Path:
        return self.out / "sendlog.sqlite"

    @property
    def sendlog_lock(self) -> Path:
        return self.out / "sendlog.lock"

    def manifest(self, shard: tuple[int, int] | None = None) -> Path:
        if shard is None:
            return self.out / MANIFEST
        return self.out / f"manifest.shard-{shard[0]}-of-{shard[1]}.json"

    def manifests(self) -> list[Path]:
        """Every manifest in the folder: the whole build's and each shard's."""
        found = [self.out / MANIFEST] if (self.out / MANIFEST).is_file() else []
        return found + sorted(self.out.glob("manifest.shard-*-of-*.json"))

    def guide_paths(self, brand_id: str, athlete_id: str) -> dict[str, Path]:
        folder = self.guides / brand_id
        return {fmt: folder / f"{athlete_id}.{fmt}" for fmt in FORMATS}

    def plan_paths(self, token: str) -> dict[str, Path]:
        folder = self.plans / token
        return {PLAN: folder / "index.html", "pdf": folder / "guide.pdf",
                "ics": folder / "plan.ics"}

    def guide_files(self, athlete_id: str) -> list[Path]:
        """The runner's guide files on disk, under any brand's folder (the manifest may
        have lost track of some: a deleted manifest, a brand changed since)."""
        if not self.guides.is_dir():
            return []
        return [path for folder in sorted(self.guides.iterdir())
                if folder.is_dir() and not folder.is_symlink()
                for path in folder.glob(f"{athlete_id}.*")
                if path.suffix[1:] in FORMATS and path.is_file()]

    def found_outputs(self, wanted: Callable[[str], bool] = lambda _id: True
                      ) -> dict[str, dict]:
        """Manifest entries for the guide files on disk, for a manifest that was lost
        (corrupt): {athlete id: {"files": {path relative to OUT: ""}}}, only ids for
        which ``wanted(id)`` holds (a shard's). No digest: none of them counts as current,
        so runners still in the roster are rebuilt and those who left are removed."""
        found: dict[str, dict] = {}
        if not self.guides.is_dir():
            return found
        for folder in sorted(self.guides.iterdir()):
            if not folder.is_dir() or folder.is_symlink():
                continue
            for path in sorted(folder.iterdir()):
                athlete_id, _, fmt = path.name.rpartition(".")
                if fmt in FORMATS and path.is_file() and athlete_id and wanted(athlete_id):
                    found.setdefault(athlete_id, {"files": {}})["files"][
                        self.relative(path)] = ""
        return found

    def plan_folders(self) -> set[str]:
        """The plan-page folders on disk (their tokens)."""
        if not self.plans.is_dir():
            return set()
        return {p.name for p in self.plans.iterdir() if p.is_dir() and not p.is_symlink()}

    def relative(self, path: Path) -> str:
        return path.relative_to(self.out).as_posix()

    def resolve(self, rel: str) -> Path | None:
        """A manifest's relative path as a file inside OUT, or None if it points outside."""
        target = (self.out / rel).resolve()
        return target if target.is_relative_to(self.out.resolve()) else None

    # ------------------------------------------------------------------ pruning

    def prune(self, *, site_keep: set[str] | None = None, gone: Iterable[str] = (),
              plan_tokens: Iterable[str] | None = None) -> int:
        """Remove what the build no longer makes, then the folders left empty.

        - ``site_keep``: the site's files this build wrote (relative to OUT/site); every
          other public file goes (``plans/`` excepted). None: the site was not built.
        - ``gone``: files (relative to OUT) of runners who left (as the manifest recorded
          them) or whose guides expired ([guides] keep_days_after_race).
        - ``plan_tokens``: the plan-page folders to keep; every other one goes (a runner
          removed from the roster, a page expired, a rotated secret). None: plan pages
          not built.

        Returns how many files and plan folders were removed.
        """
        removed = 0
        if site_keep is not None and self.site.is_dir():
            removed += _prune_tree(self.site, site_keep, skip=PLANS)
        for rel in gone:
            target = self.resolve(rel)
            if target is not None and target.is_file():
                target.unlink()
                removed += 1
                remove_empty_parents(target.parent, self.out)
        if plan_tokens is not None and self.plans.is_dir():
            # and the site's empty page that hides the folder listing
            keep = {*plan_tokens, PurePosixPath(PLANS_INDEX).name}
            for path in sorted(self.plans.iterdir()):
                if path.name not in keep:
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
                    removed += 1
        return removed


def remove_empty_parents(folder: Path, stop: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``stop`` while empty."""
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _prune_tree(root: Path, keep: set[str], skip: str) -> int:
    """Remove files under ``root`` not in ``keep`` (paths relative to root), then the
    folders left empty. One scan of the tree; symlinked folders are not entered (a link
    is removed as a link, never its target)."""
    found: list[tuple[tuple[str, ...], os.DirEntry]] = []
    left: dict[tuple[str, ...], int] = {}  # folder -> entries still in it

    def scan(folder: str, parts: tuple[str, ...]) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                here = (*parts, entry.name)
                found.append((here, entry))
                left[parts] = left.get(parts, 0) + 1
                if entry.is_dir(follow_symlinks=False):
                    scan(entry.path, here)

    scan(str(root), ())
    removed = 0
    for parts, entry in sorted(found, key=lambda item: item[0], reverse=True):  # deepest first
        if parts[0] == skip:
            continue
        if entry.is_symlink():
            if entry.is_dir():  # a linked folder: kept while it holds anything
                if any(Path(entry.path).iterdir()):
                    continue
            elif "/".join(parts) in keep:
                continue
            os.unlink(entry.path)
            left[parts[:-1]] -= 1
        elif entry.is_file():
            if "/".join(parts) not in keep:
                os.unlink(entry.path)
                left[parts[:-1]] -= 1
                removed += 1
        elif entry.is_dir() and not left.get(parts, 0):
            os.rmdir(entry.path)
            left[parts[:-1]] -= 1
    return removed
