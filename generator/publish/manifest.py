"""output/manifest.json: which outputs were built from which input hashes."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from generator import __version__
from generator.core.write import write_atomic

MANIFEST = "manifest.json"


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


def guide_digest(inputs, athlete, templates_digest: str, formats, token: str | None) -> str:
    """Every input one athlete's outputs depend on, in one hash."""
    brand = inputs.brand_for(athlete)
    parts = [
        __version__,
        athlete.model_dump_json(),
        brand.digest,
        *(f"{m.slug}:{m.digest}" for m in inputs.modules_for(athlete)),
        templates_digest,
        ",".join(formats),
        token or "",
        inputs.project.config.model_dump_json(),
        os.environ.get("SOURCE_DATE_EPOCH", ""),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


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

    def record(self, athlete_id: str, digest: str, files: list[str]) -> None:
        self.outputs[athlete_id] = {"digest": digest, "files": sorted(files)}

    def save(self) -> None:
        data = {"generator": __version__,
                "outputs": {k: self.outputs[k] for k in sorted(self.outputs)}}
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")
