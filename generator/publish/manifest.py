"""OUT/manifest.json: which outputs were built from which input hashes (and their bytes' hashes,
so email can attach a built guide after checking it).

The file is one JSON object: ``generator`` (the version that wrote it), ``outputs`` (athlete
id -> entry), ``state`` (athlete id -> what later builds must remember about the runner)
and any other top-level section a newer guidegen wrote, kept as it is. Each section's
shape is checked on load (:data:`SECTIONS`); a file that fails is reported, set aside
and rebuilt from the files on disk (``generator.core.statefile``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generator import __version__
from generator.core.errors import Problem
from generator.core.statefile import Corrupt, read_state
from generator.core.write import atomic_writer, disk_full, write_atomic

try:
    import fcntl
except ImportError:  # not POSIX: the reserve is not locked (see core/write.py)
    fcntl = None

ENTRY_BYTES = 1024  # a generous size of one saved entry (six files with their hashes)
RESERVE_SLACK = 64 * 1024


def _check_entries(name: str) -> Callable[[object], None]:
    def check(value: object) -> None:
        if not isinstance(value, dict):
            raise Corrupt(f"'{name}' is a JSON {type(value).__name__}, not an object")
        for key, entry in value.items():
            if not isinstance(entry, dict):
                raise Corrupt(f"'{name}' entry {key!r} is not an object")
    return check


def _check_files(value: object) -> None:
    _check_entries("outputs")(value)
    for key, entry in value.items():
        if not isinstance(entry.get("files", {}), dict | list):
            raise Corrupt(f"'outputs' entry {key!r} has no list of files")


# top-level section -> its check (raises Corrupt); a section not listed is kept unchecked
SECTIONS: dict[str, Callable[[object], None]] = {
    "outputs": _check_files,
    "state": _check_entries("state"),
}


def validate(data: dict) -> None:
    """Raise :class:`Corrupt` when a known section of a parsed manifest has the wrong shape."""
    for name, check in SECTIONS.items():
        if name in data:
            check(data[name])


def tree_digest(*folders: Path | None) -> str:
    """Hash of every file (name + bytes) under the given folders."""
    h = hashlib.sha256()
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for p in sorted(folder.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(folder)).encode() + b"\0")
                h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def templates_digest(project) -> str:
    """The project's own templates and the shipped defaults it falls back to."""
    from generator.load.project import shipped_dir

    return tree_digest(project.templates_dir, shipped_dir("templates"))


def input_digest(plan, templates_digest: str, config_json: str, context) -> str:
    """Every input one athlete's guide depends on, whatever formats are made of it: the
    tool's version, the athlete, brand, modules, templates, project settings and the build
    context. The send log compares these to tell a changed guide from an unchanged one."""
    parts = [
        __version__,
        plan.athlete.model_dump_json(),
        # the plan itself: it also depends on the issue date, the appointments and the
        # published state (SEQUENCE, what changed), which are not in the fields above
        json.dumps(plan.timeline.to_dict(), sort_keys=True),
        json.dumps(plan.published.to_state() if plan.published else None, sort_keys=True),
        plan.brand.digest,
        *(f"{m.slug}:{m.digest}" for m in plan.modules),  # translated: base and translation
        # the language: its tag (dates, clock), units, and the catalog of its strings
        f"{plan.language.tag if plan.language else ''}:{plan.units}:{plan.catalog}",
        templates_digest,
        config_json,
        context.key,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def output_digest(inputs: str, formats, token: str | None) -> str:
    """The input digest plus what was made of it (formats, plan-page token)."""
    return hashlib.sha256("\n".join([inputs, ",".join(formats), token or ""]).encode()
                          ).hexdigest()


@dataclass
class Manifest:
    path: Path
    outputs: dict[str, dict] = field(default_factory=dict)  # athlete id -> entry
    state: dict[str, dict] = field(default_factory=dict)  # athlete id -> kept between builds
    extra: dict[str, object] = field(default_factory=dict)  # other sections, kept as read
    problem: Problem | None = None  # the file was corrupt: reported and set aside
    _reserve_fd: int | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path, shown: str | None = None, *, repair: bool = False
             ) -> Manifest:
        """The manifest at ``path``; empty when missing or corrupt, and then ``problem``
        says so. ``repair`` (the build holding the folder's lock): a corrupt file is set
        aside and the caller fills ``outputs`` from the files on disk
        (``OutputLayout.found_outputs``), so runners who left are still cleaned up.
        Entries of another guidegen version are kept: their digests (which include the
        version) never match, so they are rebuilt, and files of runners who left go."""
        read = read_state(path, shown=shown, validate=validate, set_aside=repair,
                          then="rebuilt from the files on disk" if repair else
                          "read as empty")
        data = read.data
        extra = {k: v for k, v in data.items() if k not in ("generator", *SECTIONS)}
        return cls(path, dict(data.get("outputs", {})), dict(data.get("state", {})), extra,
                   read.problem)

    def is_current(self, athlete_id: str, digest: str, out: Path) -> bool:
        entry = self.outputs.get(athlete_id)
        return bool(entry and entry.get("digest") == digest
                    and all((out / f).is_file() for f in entry.get("files", [])))

    def record(self, athlete_id: str, digest: str, inputs: str, files: dict[str, str]) -> None:
        """``files``: relative path -> sha256 of the bytes written."""
        self.outputs[athlete_id] = {"digest": digest, "inputs": inputs,
                                    "files": {k: files[k] for k in sorted(files)}}

    def built_files(self, athlete_id: str, inputs: str, wanted: dict[str, str],
                    out: Path) -> tuple[dict[str, bytes] | None, str | None]:
        """The files ``wanted`` (name -> path relative to ``out``) as built from inputs
        with digest ``inputs``, read and checked against their recorded sha256; else
        (None, why not) with why None when this manifest has no entry for the athlete."""
        entry = self.outputs.get(athlete_id)
        if not entry:
            return None, None
        files = entry.get("files")
        if entry.get("inputs") != inputs or not isinstance(files, dict):
            return None, "stale (its inputs changed since it was built)"
        found = {}
        for name, rel in wanted.items():
            if rel not in files:
                return None, f"not built as {name}"
            try:
                data = (out / rel).read_bytes()
            except OSError:
                return None, f"{rel} is missing"
            if hashlib.sha256(data).hexdigest() != files[rel]:
                return None, f"{rel} changed since it was built"
            found[name] = data
        return found, None

    @staticmethod
    def recorded(path: Path) -> dict[str, dict]:
        """Every entry of the manifest at ``path`` (athlete id -> entry), whichever guidegen
        version wrote it; {} when it is missing or unreadable. For ``guidegen forget``,
        which must find a runner's files even in a manifest a build would ignore."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            outputs = data.get("outputs", {})
        except (OSError, ValueError, AttributeError):
            return {}
        if not isinstance(outputs, dict):
            return {}
        return {k: v for k, v in outputs.items() if isinstance(v, dict)}

    @staticmethod
    def drop(path: Path, athlete_id: str) -> bool:
        """Remove the athlete's entry from the manifest at ``path`` and write it back (every
        other entry and the version as they were); False when it had no such entry."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        outputs = data.get("outputs") if isinstance(data, dict) else None
        if not isinstance(outputs, dict) or athlete_id not in outputs:
            return False
        del outputs[athlete_id]
        data["outputs"] = {k: outputs[k] for k in sorted(outputs)}
        if isinstance(data.get("state"), dict):
            data["state"].pop(athlete_id, None)
        write_atomic(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
        return True

    def save(self) -> None:
        """Write the file (atomically, durably), one entry at a time: a manifest of a
        50,000-runner roster is never a second copy in memory. Out of space, the space
        :meth:`reserve` kept is given back and the save tried again."""
        try:
            self._write()
        except OSError as exc:
            if not disk_full(exc) or not self.release_reserve():
                raise
            self._write()

    def _write(self) -> None:
        data: dict[str, object] = {**self.extra, "generator": __version__}
        if self.state:
            data["state"] = self.state
        with atomic_writer(self.path) as fh:
            for chunk in _dump(data, self.outputs):
                fh.write(chunk.encode())

    # ------------------------------------------------------------ space to save in

    @property
    def _reserve_path(self) -> Path:
        # named like a temp file of core/write.py, and locked while kept: a batch that is
        # killed leaves it to the next one's remove_stale_temps, never to a living one's
        return self.path.with_name(f".{self.path.name}.reserved.tmp")

    def reserve(self, more: int) -> None:
        """Keep aside enough disk space to save this manifest with ``more`` entries added,
        so a disk that fills up during a batch still gets the record of every guide
        written (a rerun then builds exactly the missing ones). Best effort: without the
        space, or without fallocate, nothing is kept."""
        self.release_reserve()
        try:
            size = self.path.stat().st_size
        except OSError:
            size = 0
        size += more * ENTRY_BYTES + RESERVE_SLACK
        try:
            fd = os.open(self._reserve_path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError:
            return
        self._reserve_fd = fd
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            os.posix_fallocate(fd, 0, size)
        except (OSError, AttributeError):
            self.release_reserve()

    def release_reserve(self) -> bool:
        """Give the kept space back; False when none was kept."""
        fd, self._reserve_fd = self._reserve_fd, None
        if fd is None:
            return False
        try:
            self._reserve_path.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)
        return True


def _dump(data: dict[str, object], outputs: dict[str, dict]):
    """``json.dumps({**data, "outputs": outputs}, indent=1, sort_keys=True) + "\\n"`` in
    pieces (the same bytes): each section that is an object (``outputs``, ``state``) one
    entry at a time, so saving a 50,000-runner manifest never holds its text at once."""
    sections = {**data, "outputs": outputs}
    yield "{"
    for i, key in enumerate(sorted(sections)):
        value = sections[key]
        yield ("," if i else "") + "\n " + json.dumps(key) + ": "
        if not isinstance(value, dict) or not value:
            yield json.dumps(value, indent=1, sort_keys=True).replace("\n", "\n ")
            continue
        yield "{"
        for j, name in enumerate(sorted(value)):
            entry = json.dumps(value[name], indent=1, sort_keys=True)
            yield (("," if j else "") + "\n  " + json.dumps(name) + ": "
                   + entry.replace("\n", "\n  "))
        yield "\n }"
    yield "\n}\n"
