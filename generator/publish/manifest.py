"""OUT/manifest.json: which outputs were built from which input hashes (and their bytes' hashes,
so email can attach a built guide after checking it)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from generator import __version__
from generator.core.write import write_atomic


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


def input_digest(plan, templates_digest: str, config_json: str, context) -> str:
    """Every input one athlete's guide depends on, whatever formats are made of it: the
    tool's version, the athlete, brand, modules, templates, project settings and the build
    context. The send log compares these to tell a changed guide from an unchanged one."""
    parts = [
        __version__,
        plan.athlete.model_dump_json(),
        plan.brand.digest,
        *(f"{m.slug}:{m.digest}" for m in plan.modules),
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

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            outputs = data.get("outputs", {}) if data.get("generator") == __version__ else {}
        except (FileNotFoundError, ValueError, AttributeError):
            outputs = {}  # missing or unreadable: everything is rebuilt
        return cls(path, dict(outputs))

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
        write_atomic(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
        return True

    def save(self) -> None:
        data = {"generator": __version__,
                "outputs": {k: self.outputs[k] for k in sorted(self.outputs)}}
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")
