"""The content cache: each module as parsed (front matter validated, Markdown converted
and sanitised), kept by the hash of its file, so that a rebuild after editing one module
of hundreds parses that one and reads the rest back.

``guidegen site`` keeps it in ``OUT/.cache/`` (:func:`ContentCache.for_output`);
``guidegen serve`` keeps one in memory for the whole session. Parsing a module is a pure
function of its bytes, its path and guidegen itself, and a key holds all three:

- the SHA-256 of the file's bytes (when storing, of the very bytes the parse read: a file
  saved again between the lookup and the parse is stored as what was parsed);
- its path as problems show it, and its file name (the default slug);
- :func:`fingerprint`: the cache format, Python's version, the versions of the Markdown,
  sanitiser, YAML and validation libraries (and of Jinja and Babel, for the pages and
  templates kept by ``render/pagecache.py`` and ``render/codecache.py``), and the source
  of every guidegen module, so that any change to the parser, its extensions or the
  allow-list starts afresh.

Only modules that parse without a problem are stored: a broken file is parsed (and its
problems reported) on every build. Entries are kept by ``core.cachestore``: corrupt or
foreign ones are misses, and only the module classes below can come out of one.
Parsing reads no clock: ``updated:`` comes from the file and git dates are looked up when
the site is rendered, so a stored module never goes stale with time.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pickle
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import babel
import jinja2
import markdown
import markupsafe
import nh3
import pydantic
import yaml

import generator
from generator.core.cachestore import CacheStore, SafeUnpickler, key_from, key_start, make_key
from generator.core.errors import Problem
from generator.load.content import Module

CACHE_DIR = ".cache"  # under the output folder, beside site/ (never published)
FORMAT = "1"  # bump when what an entry holds changes in a way the source hash misses
PACKAGE_DIR = Path(generator.__file__).resolve().parent

Job = tuple[Path, str]  # (file, path as problems show it)
Parsed = tuple[Module | None, list[Problem]]


@functools.cache
def fingerprint() -> str:
    """Everything besides a file that changes what parsing it gives, as one hash:
    computed once per process (about 10 ms: guidegen's sources are read once)."""
    parts = [FORMAT, sys.version, generator.__version__]
    for lib in (markdown, nh3, yaml, pydantic, jinja2, babel):  # babel: dates on pages
        parts.append(f"{lib.__name__} {_version(lib)}")
    parts += [_source_mark(markupsafe), _frontmatter_mark()]  # no version attribute to ask
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts += [path.relative_to(PACKAGE_DIR).as_posix(), path.read_bytes()]
    return make_key(*parts)


@functools.lru_cache(maxsize=4)
def _key_start(mark: str):
    return key_start(mark)  # make_key(fingerprint(), ...): the common part hashed once


def _version(lib) -> str:
    version = getattr(lib, "__version__", None) or getattr(lib, "VERSION", None)
    return str(version) if version else _source_mark(lib)


def _frontmatter_mark() -> str:
    import frontmatter

    return _source_mark(frontmatter)


def _source_mark(lib) -> str:
    """A library without a version attribute: the hash of its package's sources."""
    folder = Path(lib.__file__).parent
    return make_key(*(p.read_bytes() for p in sorted(folder.glob("*.py"))))


def _allowed(module: str, name: str) -> bool:
    """The classes a module entry may hold: guidegen's own data classes and models from
    the load phase (Module, When, SessionRule, ModuleText, Piece ...), and dates."""
    if module == "datetime":
        return name in ("date", "datetime", "timezone", "timedelta")
    if not module.startswith("generator.load."):
        return False
    found = getattr(sys.modules.get(module), name, None)
    return isinstance(found, type) and (
        dataclasses.is_dataclass(found) or issubclass(found, pydantic.BaseModel))


def _decode(payload: bytes) -> Module:
    module = SafeUnpickler(payload, _allowed).load()
    if not isinstance(module, Module):
        raise TypeError(f"not a Module: {type(module).__name__}")
    return module


def _encode(module: Module) -> bytes:
    return pickle.dumps(module, protocol=5)


class ContentCache:
    """Parsed modules by key, in the pack file ``path`` (None: in memory, ``serve``)."""

    def __init__(self, path: Path | None = None):
        self.store = CacheStore(path, _encode, _decode)
        self._parsed = 0

    @classmethod
    def for_output(cls, out: Path) -> ContentCache:
        return cls(out / CACHE_DIR / "content.pack")

    @staticmethod
    def key(path: Path, shown: str, digest: str) -> str:
        """The key of the file ``path`` (shown as ``shown``) whose bytes hash to ``digest``."""
        return key_from(_key_start(fingerprint()), shown, path.name, digest)

    @property
    def hits(self) -> int:
        return self.store.hits

    @property
    def misses(self) -> int:
        """Files parsed by the last :meth:`parse` (not found, damaged or a first build)."""
        return self._parsed

    @staticmethod
    def derive(made: Module, *sources: Module, extra: bytes = b"") -> None:
        """``made`` was made from ``sources`` alone, and ``extra`` (the digest of anything
        else it was made from): a translation attached to its base module
        (``load/translations.py``), a module with the site's wording of its variables
        filled in (``render/site.py``). When every source was handed out by the last
        :meth:`ContentCache.parse` (or made so), ``made`` is handed out too, under a key
        made from theirs (in order) and ``extra``, so what is worked out from it is kept
        for the next build as well. The rule that makes it is guidegen's code, which every
        source key already holds."""
        keys = []
        for source in sources:
            entry = HANDED_OUT.get(id(source))
            if entry is None or entry[0] is not source:
                return  # parsed with a problem, or not through the cache: not kept
            keys.append(entry[1])
        key = make_key("derived", *keys, extra)
        before = _DERIVED.get(key)
        if before is not None and before != id(made):  # made again (serve: a template
            HANDED_OUT.pop(before, None)  # edit renders without a parse): one is kept
        _DERIVED[key] = id(made)
        HANDED_OUT[id(made)] = (made, key)

    def parse(self, jobs: Sequence[Job], parse_all: Callable[[list[Job]], list[Parsed]]
              ) -> list[Parsed]:
        """``parse_all(jobs)``, but a file whose key is stored is read back instead of
        parsed: only the misses go to ``parse_all`` (on every core, as before). Entries
        of files no longer in ``jobs`` are dropped: ``jobs`` is the whole content.

        A parsed module is stored under the hash of the bytes its parse read
        (``Module.digest``), not those read here to look it up: a file saved again in
        between is stored as what was parsed. With nothing stored (a first build) no
        file is read here at all."""
        results: list[Parsed | None] = [None] * len(jobs)
        misses = []
        stored = len(self.store) > 0
        HANDED_OUT.clear()
        _DERIVED.clear()
        for index, (path, shown) in enumerate(jobs):
            module = None
            if stored:
                try:
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError:
                    digest = None  # the parse says why, located
                if digest is not None:
                    key = self.key(path, shown, digest)
                    module = self.store.get(key)
                    if module is not None:
                        HANDED_OUT[id(module)] = (module, key)
            if module is None:
                misses.append(index)
            else:
                results[index] = (module, [])
        self._parsed = len(misses)
        parsed = parse_all([jobs[i] for i in misses]) if misses else []
        for index, (module, problems) in zip(misses, parsed, strict=True):
            results[index] = (module, problems)
            if module is not None and not problems:
                path, shown = jobs[index]
                key = self.key(path, shown, module.digest)
                self.store.put(key, module)
                HANDED_OUT[id(module)] = (module, key)
        self.store.save()
        return results


# The modules the last ContentCache.parse handed out, by id, with their keys (each kept
# alive here, so its id names it while it is listed). A key fixes the module's value: that
# is this cache's contract, so what is worked out from a module can be kept by its key
# for the next process too (render/pagecache.py keeps each one's digest). Modules are
# frozen; one made from listed ones (a translation attached, the site's wording of its
# variables filled in) is a new object, listed by ContentCache.derive under a key made
# from theirs; one made from anything else (a runner's values) is not listed.
HANDED_OUT: dict[int, tuple[Module, str]] = {}
_DERIVED: dict[str, int] = {}  # key of each module ContentCache.derive listed -> its id

