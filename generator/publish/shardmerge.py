"""Shard manifests into one ``manifest.json``, and a shard's first manifest.

Between runs the output folder has one state, ``manifest.json``: what was built from
which inputs and, per runner, the plan last published (``Manifest.state``). A sharded
run (``--shard I/N``) keeps its shard's part of it in ``manifest.shard-I-of-N.json``,
which holds every runner of that shard and nothing else:

1. its first run starts from ``manifest.json``'s entries for the shard's runners
   (:func:`start_shard`), so unchanged guides are not rebuilt and each runner keeps
   the issue date and calendar sequence a whole build gave them;
2. later runs of the same shard read their own manifest (shards of one run write
   different files, so they run side by side: core/lock.py);
3. :func:`merge_shards` (``guidegen merge-shards``, and any whole build or batch
   before it starts, as it holds the folder alone) folds them back: each shard's
   manifest replaces ``manifest.json``'s entries for the runners of that shard,
   including the removal of those who left, and is then deleted.

So a shard manifest only exists until the next merge, and never goes stale next to a
newer ``manifest.json``. Shard manifests of two different counts at once (``-of-3``
beside ``-of-4``) cannot be told apart in time: sharded runs refuse to start and the
merge refuses to guess. A runner recorded by a shard that does not build it (or by two
shards) means the files were mixed up by hand: also refused, nothing is merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from generator.core.errors import GuidegenError, Problem, UsageError, display_path
from generator.core.statefile import read_state
from generator.core.vocab import counted
from generator.publish.layout import OutputLayout
from generator.publish.manifest import Manifest, validate
from generator.publish.shards import in_shard, shard_of

SHARD_MANIFEST = re.compile(r"manifest\.shard-([0-9]{1,9})-of-([0-9]{1,9})\.json")


@dataclass
class Merged:
    """What :func:`merge_shards` did: the shard count, the shards merged and those with
    no manifest (their runners keep their entries of ``manifest.json``)."""

    count: int | None = None  # None: there was nothing to merge
    shards: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    runners: int = 0  # runners in the merged manifest
    problems: list[Problem] = field(default_factory=list)  # warnings

    def line(self) -> str:
        if self.count is None:
            return "no shard manifests to merge"
        missing = f"; no manifest of shard {', '.join(map(str, self.missing))}" \
            if self.missing else ""
        return (f"merged {len(self.shards)} of {self.count} shard manifests into "
                f"manifest.json ({counted(self.runners, 'runner')}){missing}")


def pending(layout: OutputLayout) -> dict[int, dict[int, Path]]:
    """The shard manifests in the folder: {shard count: {shard index: path}}."""
    found: dict[int, dict[int, Path]] = {}
    for path in layout.manifests():
        match = SHARD_MANIFEST.fullmatch(path.name)
        if match:
            found.setdefault(int(match.group(2)), {})[int(match.group(1))] = path
    return found


def _count_names(root: Path | None, found: dict[int, dict[int, Path]]) -> str:
    return ", ".join(display_path(found[n][i], root) for n in sorted(found)
                     for i in sorted(found[n]))


def start_shard(layout: OutputLayout, shard: tuple[int, int], root: Path | None
                ) -> Manifest | None:
    """The manifest a run of ``shard`` starts from when it has none of its own yet: the
    shard's runners' entries of ``manifest.json`` (not saved until the batch saves it).
    None when the shard has its manifest already. Refuses (exit 2) while shard manifests
    of another shard count wait to be merged: this run would start from stale state.

    The whole build's manifest is only read here (other shards read it at the same
    time): a corrupt one is reported and the shard's guide files on disk stand in."""
    others = {n: paths for n, paths in pending(layout).items() if n != shard[1]}
    if others:
        raise UsageError(f"--shard {shard[0]}/{shard[1]}: the manifests of a run in "
                         f"{', '.join(map(str, sorted(others)))} shards are not merged yet "
                         f"({_count_names(root, others)}); when all its shards "
                         "have finished, run guidegen merge-shards, then this shard",
                         path=display_path(layout.out, root))
    if layout.manifest(shard).exists():
        return None
    path = layout.manifest()
    whole = Manifest.load(path, display_path(path, root))
    if whole.problem is not None:
        whole.outputs = layout.found_outputs(lambda athlete_id: in_shard(athlete_id, shard))
    return Manifest(layout.manifest(shard),
                    {k: v for k, v in whole.outputs.items() if in_shard(k, shard)},
                    {k: v for k, v in whole.state.items() if in_shard(k, shard)},
                    dict(whole.extra), whole.problem)


def merge_shards(layout: OutputLayout, root: Path | None = None) -> Merged:
    """Fold the shard manifests into ``manifest.json`` and delete them (see the module's
    doc). The caller holds the folder's lock alone (no shard is running). A conflict
    raises :class:`GuidegenError` (exit 2) and changes nothing."""
    found = pending(layout)
    if not found:
        return Merged()
    if len(found) > 1:
        raise UsageError(f"cannot merge: shard manifests of {len(found)} different shard "
                         f"counts ({_count_names(root, found)}) and no telling which "
                         "run is the latest; delete the older run's manifests (its runners "
                         "are then rebuilt)", path=display_path(layout.out, root))
    count, paths = next(iter(found.items()))
    shards, errors = _load_shards(paths, count, root)
    if errors:
        shown = display_path(layout.out, root)
        raise GuidegenError("cannot merge the shard manifests", path=shown, problems=[
            *errors, Problem(shown, None, "nothing was merged: mend or delete the shard "
                             "manifests named above, then merge again")])
    path = layout.manifest()
    merged = Manifest.load(path, display_path(path, root), repair=True)
    report = Merged(count, sorted(paths), [i for i in range(1, count + 1) if i not in paths])
    if merged.problem is not None:  # set aside: the guide files on disk stand in
        merged.outputs = layout.found_outputs()
        report.problems.append(merged.problem)
    for section in ("outputs", "state"):  # each shard's runners as the shard left them
        kept = {k: v for k, v in getattr(merged, section).items()
                if shard_of(k, count) not in paths}
        for shard in shards.values():
            kept.update(getattr(shard, section))
        setattr(merged, section, kept)
    for shard in shards.values():
        for name, value in shard.extra.items():
            merged.extra.setdefault(name, value)
    merged.save()
    for shard_path in paths.values():  # merged: from now on manifest.json says it all
        shard_path.unlink(missing_ok=True)
    report.runners = len(merged.outputs)
    report.problems += [Problem(display_path(layout.manifest((i, count)), root), None,
                                f"missing: shard {i} of {count} did not finish; its runners "
                                "keep their entries of manifest.json (the next build "
                                "makes what is out of date)", severity="warning")
                        for i in report.missing]
    return report


def _load_shards(paths: dict[int, Path], count: int, root: Path | None
                 ) -> tuple[dict[int, Manifest], list[Problem]]:
    """Each shard's manifest, and every reason not to merge them: an unreadable one, a
    shard that is not one of ``count``, a runner in two of them or in one that does
    not build it."""
    shards: dict[int, Manifest] = {}
    errors: list[Problem] = []
    for index in sorted(paths):
        shown = display_path(paths[index], root)
        if not 1 <= index <= count:
            errors.append(Problem(shown, None, f"there is no shard {index} of {count}"))
            continue
        read = read_state(paths[index], shown=shown, validate=validate, set_aside=False,
                          then=f"not merged: run the shard again (--shard {index}/{count}) "
                          "or delete it")
        if read.problem is not None:
            errors.append(replace(read.problem, severity="error"))
            continue
        shards[index] = Manifest.load(paths[index], shown)
    where: dict[str, list[int]] = {}  # runner -> the shards whose manifest has them
    for index, manifest in shards.items():
        for athlete_id in {*manifest.outputs, *manifest.state}:
            where.setdefault(athlete_id, []).append(index)
    for athlete_id, found in sorted(where.items()):
        own = shard_of(athlete_id, count)
        if len(found) > 1:
            names = ", ".join(display_path(paths[i], root) for i in found)
            errors.append(Problem(display_path(paths[found[0]].parent, root), None,
                                  f"{athlete_id}: in {len(found)} shard manifests ({names}); "
                                  f"the runner belongs to shard {own} of {count} only",
                                  athlete_id=athlete_id))
        elif found[0] != own:
            errors.append(Problem(display_path(paths[found[0]], root), None,
                                  f"{athlete_id}: belongs to shard {own} of {count}, not "
                                  f"{found[0]}", athlete_id=athlete_id))
    return shards, errors
