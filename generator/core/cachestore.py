"""A content-addressed store for what a rebuild can reuse: values by key, kept in memory
(``guidegen serve``) or in one pack file (``OUT/.cache/*.pack``).

The store never decides what a key means: its users make keys from everything that
changes the value (the file's bytes, guidegen's code, library versions; see
``load/contentcache.py`` and ``render/pagecache.py``), so a hit is always the value a
fresh computation would give. What it does guarantee:

- each entry carries a SHA-256 of its key and payload: a truncated, bit-flipped or
  hand-edited entry, or one moved to another key, reads as a miss, is recomputed and
  written again, and never fails the build (a damaged pack loses the entries from the
  damage on, not the build);
- pickled entries are read by :class:`SafeUnpickler`, which builds only the classes its
  caller allows (refuse by default, allow by rule): a file in the output folder can never
  run code, however it was made;
- :meth:`CacheStore.save` keeps only what this build asked for or stored: new entries are
  appended, and the pack is rewritten atomically (``core.write``), compacted, once more
  than half of it is entries no build uses any more (or it was damaged), so it holds
  about one generation of entries, not every version of every file. Entries are
  content-addressed: one left behind is never wrong, only unused.

One pack rather than a file per entry: a cold build of 500 modules stores 500 entries,
and 500 atomic writes (temp file, lock, rename) cost more than parsing them did.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path

from generator.core.write import write_atomic

MAGIC = b"guidegen-cache-pack-1\n"
KEY_RE = re.compile(r"^[0-9a-f]{64}$")  # keys are hex SHA-256
HEAD = 32 + 8 + 32  # per entry: key, payload length, check (SHA-256 of key + payload)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def make_key(*parts: str | bytes) -> str:
    """A key from ``parts``, each length-prefixed so that no two lists of parts collide
    (``("ab", "c")`` and ``("a", "bc")`` give different keys)."""
    return _feed(hashlib.sha256(), parts).hexdigest()


def key_start(*parts: str | bytes):
    """The first ``parts`` of many keys, hashed once: ``make_key(*parts, *more) ==
    key_from(key_start(*parts), *more)``."""
    return _feed(hashlib.sha256(), parts)


def key_from(start, *parts: str | bytes) -> str:
    return _feed(start.copy(), parts).hexdigest()


def _feed(h, parts):
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h


class SafeUnpickler(pickle.Unpickler):
    """Builds only the classes ``allowed(module, name)`` admits; any other global (a
    function, ``os.system``, a class outside the rule) is an ``UnpicklingError``."""

    def __init__(self, data: bytes, allowed: Callable[[str, str], bool]):
        super().__init__(io.BytesIO(data))
        self._allowed = allowed

    def find_class(self, module: str, name: str):
        if not self._allowed(module, name):
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache entry")
        return super().find_class(module, name)


class CacheStore:
    """Values by key: in memory when ``path`` is None, else in the pack file ``path``.

    ``encode``/``decode`` turn a value into bytes and back (default: the value is bytes);
    ``decode`` raises (anything) for an entry it does not accept, which counts as a miss.
    In memory too the store keeps the encoded bytes: each ``get`` gives a new value, so a
    caller that changes what it got cannot change what the next build gets.
    ``hits``, ``misses`` and ``written`` count what this store did, for tests and reports.
    """

    def __init__(self, path: Path | None = None,
                 encode: Callable[[object], bytes] | None = None,
                 decode: Callable[[bytes], object] | None = None):
        self.path = path
        self._encode = encode or _as_bytes
        self._decode = decode or _as_bytes
        self._entries: dict[bytes, bytes] | None = None if path is not None else {}
        self._used: set[bytes] = set()
        self._new: dict[bytes, None] = {}  # put since the last save, in order
        self._replaced = False  # an entry of the pack put again with other bytes
        self._pack: _Pack | None = None  # the file as read: what is in it, and its stat
        self.hits = self.misses = self.written = 0

    def __len__(self) -> int:
        return len(self._load())

    def read_empty(self) -> bool:
        """Whether the pack held no entry when it was read, whatever was put since (in
        memory: whether the store holds none)."""
        entries = self._load()
        return not (self._pack.sizes if self._pack is not None else entries)

    def get(self, key: str, count: bool = True):
        """The value stored under ``key``, or None (absent, damaged or refused);
        ``count=False`` leaves it out of ``hits`` and ``misses`` (a store's bookkeeping)."""
        raw = _raw(key)
        self._used.add(raw)
        payload = self._load().get(raw)
        value = None
        if payload is not None:
            try:
                value = self._decode(payload)
            except Exception:  # noqa: BLE001 - any entry we cannot take back is a miss
                value = None
        if count:
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
        return value

    def put(self, key: str, value) -> None:
        raw = _raw(key)
        self._used.add(raw)
        entries, payload = self._load(), self._encode(value)
        if entries.get(raw, payload) != payload:
            self._replaced = True  # an entry refused (or of another format): rewrite it
        entries[raw] = payload
        self._new[raw] = None
        self.written += 1

    def save(self) -> None:
        """Keep the entries this build asked for or stored, and bring the pack up to date.

        A save ends a generation: what counts as used starts empty again, so a second
        save with no ``get`` or ``put`` in between keeps nothing (call it once per build).

        New entries are appended to the pack as it was read (a one-module edit writes
        kilobytes, not the whole pack); the pack is rewritten, compacted, when it was
        damaged, changed by someone else since it was read, or more than half of it is
        entries no longer used. A folder that cannot be written costs the next build its
        hits, never this build its output."""
        entries = self._load()
        for raw in [raw for raw in entries if raw not in self._used]:
            del entries[raw]
        new = [raw for raw in self._new if raw in entries]
        damaged = self._replaced
        self._used, self._new, self._replaced = set(), {}, False
        if self.path is None:
            return
        pack = self._pack
        on_disk = {raw: size for raw, size in pack.sizes.items() if raw in entries}
        live = sum(HEAD + size for size in on_disk.values())
        dead = max(0, pack.size - len(MAGIC) - live)  # entries no longer used
        damaged = damaged or (bool(pack.size) and not pack.clean)
        added = [raw for raw in new if raw not in on_disk]
        if not added and not dead and not damaged:
            return
        try:
            if not damaged and pack.size and dead <= live and pack.same_file(self.path):
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | _NOFOLLOW)
                with os.fdopen(fd, "ab") as fh:  # a torn append is a truncated entry
                    fh.write(b"".join(_record(raw, entries[raw]) for raw in added))
            else:
                write_atomic(self.path, MAGIC + b"".join(
                    _record(raw, payload) for raw, payload in entries.items()), durable=False)
        except OSError:
            self._pack = _Pack()  # whatever is there now, the next save rewrites it
            return
        self._pack = _Pack.of(self.path, {raw: len(p) for raw, p in entries.items()})

    def _load(self) -> dict[bytes, bytes]:
        """The entries of the pack, read once; the checks are per entry."""
        if self._entries is None:
            self._entries, self._pack = _Pack.read(self.path)
        return self._entries


class _Pack:
    """What a pack file held when it was read: its entries' sizes, whether every byte of
    it was a good entry, and its identity (to append only to the very file read)."""

    def __init__(self, sizes: dict[bytes, int] | None = None, size: int = 0,
                 clean: bool = False, stat: tuple | None = None):
        self.sizes, self.size, self.clean, self.stat = sizes or {}, size, clean, stat

    @classmethod
    def read(cls, path: Path) -> tuple[dict[bytes, bytes], _Pack]:
        try:  # a symlink is not followed (nor appended to): it is replaced on save
            with os.fdopen(os.open(path, os.O_RDONLY | _NOFOLLOW), "rb") as fh:
                stat = _identity(os.fstat(fh.fileno()))
                data = fh.read()
        except OSError:
            return {}, cls()
        if not data.startswith(MAGIC):
            return {}, cls(size=len(data), stat=stat)  # damaged: rewritten on save
        entries, clean = _unpack(memoryview(data)[len(MAGIC):])
        return entries, cls({raw: len(p) for raw, p in entries.items()}, len(data), clean,
                            stat)

    @classmethod
    def of(cls, path: Path, sizes: dict[bytes, int]) -> _Pack:
        try:
            stat = path.lstat()
        except OSError:
            return cls()
        return cls(sizes, stat.st_size, True, _identity(stat))

    def same_file(self, path: Path) -> bool:
        try:
            return _identity(path.lstat()) == self.stat
        except OSError:
            return False


def _identity(stat: os.stat_result) -> tuple:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _record(raw: bytes, payload: bytes) -> bytes:
    return raw + len(payload).to_bytes(8, "big") + _check(raw, payload) + payload


def _unpack(data: memoryview) -> tuple[dict[bytes, bytes], bool]:
    """The entries whose check holds, up to the first header that cannot be placed, and
    whether that was every byte (no damage: the pack may be appended to)."""
    entries, at, clean = {}, 0, True
    while at + HEAD <= len(data):
        raw = bytes(data[at:at + 32])
        size = int.from_bytes(data[at + 32:at + 40], "big")
        check = bytes(data[at + 40:at + HEAD])
        if at + HEAD + size > len(data):
            break  # truncated: what follows cannot be placed
        payload = bytes(data[at + HEAD:at + HEAD + size])
        if _check(raw, payload) == check:
            entries[raw] = payload
        else:
            clean = False
        at += HEAD + size
    return entries, clean and at == len(data)


def _raw(key: str) -> bytes:
    if not KEY_RE.match(key):
        raise ValueError(f"not a cache key: {key!r}")
    return bytes.fromhex(key)


def _check(raw: bytes, payload: bytes) -> bytes:
    return hashlib.sha256(raw + payload).digest()


def _as_bytes(value) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return value
