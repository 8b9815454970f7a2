"""Compiled templates, kept for the next process: Jinja compiles the site's templates to
Python code in every run (tens of milliseconds), and ``guidegen site`` keeps that code in
``OUT/.cache/templates.pack`` (:meth:`TemplateCode.use`) so a rebuild loads it instead.

Within a process the code is shared by every environment ``Renderer.env`` makes (each
brand and language has one, all with the same settings): Jinja names an entry by the
template's name and file and checks the source's checksum before using it.

An entry on disk is code this process will run, so it is taken only if it is signed
(HMAC-SHA-256) with a key the output folder does not hold: a random key made once per
user, ``$XDG_CACHE_HOME/guidegen/template-code.key`` (``~/.cache`` by default, readable by
the user alone). A pack copied from elsewhere, edited or damaged is a miss; without a key
(no home folder to keep it in) nothing is kept on disk. Entries are also named by
guidegen's fingerprint (``load.contentcache.fingerprint``: its code, hence the
environment's settings, and the versions of Python and Jinja), so code compiled by another
guidegen is never used: a stale or damaged entry costs a compile, never a wrong page.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import jinja2

from generator.core.cachestore import CacheStore, make_key
from generator.load.contentcache import CACHE_DIR, fingerprint

KEY_BYTES = 32
TAG_BYTES = 32  # HMAC-SHA-256


def key_path() -> Path | None:
    """Where the signing key lives (None: no home folder to keep it in)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base) / "guidegen" / "template-code.key"


def signing_key(path: Path | None = None) -> bytes | None:
    """The user's key, made on first use; None when it cannot be read nor made."""
    path = path or key_path()
    if path is None:
        return None
    for _attempt in range(2):
        try:
            with open(path, "rb") as fh:
                data = fh.read(KEY_BYTES + 1)
            return data if len(data) == KEY_BYTES else None
        except FileNotFoundError:
            pass
        except OSError:
            return None
        try:  # O_EXCL: two first runs at once agree on one key (the loser reads it)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError:
            return None
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES))
    return None


class TemplateCode(jinja2.BytecodeCache):
    """Compiled templates by Jinja's bucket key, in memory and, while :meth:`use` holds
    a pack, on disk."""

    def __init__(self):
        self._code: dict[str, bytes] = {}
        self._disk: CacheStore | None = None
        self._key: bytes | None = None
        self._touched = False  # a template was loaded while the pack was in use

    def use(self, out: Path | None) -> None:
        """Read and keep entries in ``OUT/.cache/templates.pack`` (None: stop, saving
        what was compiled meanwhile)."""
        if self._disk is not None and self._touched:  # no template loaded: all kept
            self._disk.save()
        self._disk = self._key = None
        self._touched = False
        if out is not None:
            self._key = signing_key()
            if self._key is not None:
                self._disk = CacheStore(out / CACHE_DIR / "templates.pack")

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if self._disk is not None:
            self._touched = True
            if code is None:
                code = self._read(bucket.key)
                if code is not None:
                    self._code[bucket.key] = code
            elif self._read(bucket.key) != code:  # compiled earlier in this process
                self._write(bucket.key, code)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        code = self._code[bucket.key] = bucket.bytecode_to_string()
        if self._disk is not None:
            self._write(bucket.key, code)

    def _write(self, name: str, code: bytes) -> None:
        self._disk.put(self._entry(name), self._sign(name, code) + code)

    def _entry(self, name: str) -> str:
        return make_key("template-code", fingerprint(), name)

    def _sign(self, name: str, code: bytes) -> bytes:
        return hmac.new(self._key, self._entry(name).encode() + code, hashlib.sha256).digest()

    def _read(self, name: str) -> bytes | None:
        stored = self._disk.get(self._entry(name))
        if stored is None or len(stored) < TAG_BYTES:
            return None
        tag, code = stored[:TAG_BYTES], stored[TAG_BYTES:]
        if not hmac.compare_digest(tag, self._sign(name, code)):
            return None  # not made with this user's key: never run
        return code


COMPILED = TemplateCode()  # the one every environment of every Renderer shares
