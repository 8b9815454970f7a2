"""Rendered site pages by what their render reads, so that a rebuild after editing one
module renders that module's page (and the few that show it) instead of every page.

A page's key is made of:

- :meth:`PageCache.shared`, once per Jinja environment: guidegen's code and libraries
  (``load.contentcache.fingerprint``), every template the environment can load, as it
  loads it (a brand's override before the project's, the project's before guidegen's;
  the CSS too), the project's and
  guidegen's locales (gettext catalogs reach templates through the environment, not the
  context), ``guidegen.toml``, and the environment's own filters, tests and globals;
- the template's name, and a canonical digest (:func:`digest`) of each context value
  the template can read: the names its source, and that of every template it extends,
  includes or imports, leaves undeclared (:func:`reads`). A template that names another
  only at render time, or a filter or global of our own that is handed the whole context,
  makes every name count. So a module page, which never reads ``modules``, keeps its key
  when another module's text changes; the home page, which lists them all, does not.

A digest is made from the values themselves, never from ``pickle`` or ``repr`` (sets are
sorted, pydantic models and dataclasses taken field by field), so it is the same in every
process; a value of a kind it does not know makes the page uncacheable (rendered every
time), never a guess. Rendered bytes are kept by ``core.cachestore``.

A value many pages share (the site settings, the brand, the list of modules) is digested
once per build; a module the content cache handed out has its digest kept in the store
by its content-cache key (which fixes the module's value), so a rebuild digests only the
modules that changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath

import jinja2

from generator.core.cachestore import CacheStore, key_from, key_start, make_key
from generator.load.contentcache import CACHE_DIR, HANDED_OUT, PACKAGE_DIR, fingerprint
from generator.render.traced import reads

MAX_DEPTH = 40  # nesting of a context value; deeper (or a cycle) is not digested


class Unhashable(Exception):
    """A context value :func:`digest` cannot describe: the page is not cached."""


class PageCache:
    """Rendered pages (bytes) by key, in the pack ``path`` (None: in memory, ``serve``)."""

    def __init__(self, path: Path | None = None):
        self.store = CacheStore(path)
        self._shared: dict[int, tuple[jinja2.Environment, str]] = {}
        self._reads: dict[tuple[int, str], tuple[jinja2.Environment, frozenset | None]] = {}
        self._digests: dict[int, tuple[object, bytes]] = {}  # id -> (value kept alive, digest)
        self._inner: dict[int, tuple[object, bytes]] = {}  # the same, of objects inside them
        self._starts: dict[tuple[str, str], object] = {}  # (shared, template) -> its hash
        self._parsed: dict = {}  # (id(env), template) -> what reads() found in its source
        self._cold: bool | None = None  # the pack held nothing when this build began
        self.rendered = 0  # pages rendered (not taken from the store), for tests and reports

    @classmethod
    def for_output(cls, out: Path) -> PageCache:
        return cls(out / CACHE_DIR / "pages.pack")

    def shared(self, env: jinja2.Environment, project) -> str | None:
        """What every page rendered by ``env`` depends on besides its context (None: a
        loader that cannot list its templates; nothing is cached then)."""
        found = self._shared.get(id(env))
        if found is None:
            parts = [fingerprint()]
            try:  # every template as the environment loads it (overrides first)
                for name in sorted(env.list_templates()):
                    parts += [name, env.loader.get_source(env, name)[0]]
            except (TypeError, jinja2.TemplateNotFound):
                self._shared[id(env)] = (env, None)
                return None
            root = project.root
            for folder in (root / getattr(project.settings, "locales_dir", "locales"),
                           PACKAGE_DIR / "defaults" / "locales"):
                parts.append(_tree(folder))
            config = root / "guidegen.toml"
            parts.append(config.read_bytes() if config.is_file() else b"")
            # a function by its name (its code is in the fingerprint), a value by its
            # digest; an object it cannot digest by its type: what such an object holds
            # comes from the files and the code above (a language's catalog, its formats)
            for kind, table in (("f", env.filters), ("t", env.tests), ("g", env.globals)):
                for name in sorted(table):
                    parts += [kind, name, _callable_or_digest(table[name])]
            found = (env, make_key(*parts))
            self._shared[id(env)] = found
        return found[1]

    def key(self, env: jinja2.Environment, project, template: str, ctx: dict) -> str | None:
        """The key of rendering ``template`` with ``ctx`` in ``env``; None: not cacheable."""
        shared = self.shared(env, project)
        if shared is None:
            return None
        names = self.reads(env, project, template)
        start = self._starts.get((shared, template))
        if start is None:
            start = self._starts[(shared, template)] = hashlib.sha256(
                make_key(shared, template).encode())
        h = start.copy()
        memo, inner = self._digests, self._inner
        try:
            for name in sorted(ctx) if names is None else sorted(names.intersection(ctx)):
                value = ctx[name]
                if type(value) is str:  # most differ from page to page: hashed, not kept
                    h.update(_name(name) + hashlib.sha256(b"str:" + value.encode(
                        "utf-8", "surrogatepass")).digest())
                    continue  # digests are 32 bytes: no separator
                kept = memo.get(id(value))  # a value many pages share: digested once
                if kept is None:
                    kept = memo[id(value)] = (value, digest(value, inner))
                h.update(_name(name) + kept[1])
        except Unhashable:
            return None
        return h.hexdigest()

    def reads(self, env: jinja2.Environment, project, template: str) -> frozenset[str] | None:
        """The context names ``template`` can read (None: any), kept in the store too:
        finding them parses every template of the page (tens of milliseconds)."""
        found = self._reads.get((id(env), template))
        if found is None:
            key = make_key("reads", self.shared(env, project), template)
            stored = self.store.get(key, count=False)
            if stored is None:
                names = reads(env, template, self._parsed)
                stored = b"*" if names is None else "\n".join(sorted(names)).encode()
                self.store.put(key, stored)
            names = None if stored == b"*" else frozenset(stored.decode().split("\n")) - {""}
            found = (env, names)
            self._reads[(id(env), template)] = found
        return found[1]

    def render(self, count: int, render: Callable[..., bytes], min_items: int,
               before_fork: Callable[[], None] | None = None,
               each: Callable[[int, bytes], None] | None = None) -> list[bytes]:
        """``[render(i) for i in range(count)]`` (``render`` runs under ``pmap``), taking
        each page whose key (``render(i, True)``) is stored from the store instead;
        ``before_fork()`` runs first when workers render the pages left. With nothing
        stored (a cold build) the workers work out each key with its page (``render(i,
        None)``: both). Memos keep the values they name alive (ids stay theirs) until
        save(), so the next language's pages (one render each) find them digested."""
        unknown = self._known_modules()
        self._cold = self.store.read_empty() if self._cold is None else self._cold
        if self._cold and count >= min_items:
            for module, _key in unknown:  # once here, not in every worker
                with contextlib.suppress(Unhashable):
                    digest(module, self._inner)
            made = _render_all(functools.partial(render, key=None), range(count), min_items,
                               before_fork, each and (lambda i, made: each(i, made[1])))
            keys, pages, misses = [k for k, _ in made], [page for _, page in made], range(count)
        else:
            keys = [render(i, True) for i in range(count)]
            pages = [None if k is None else self.store.get(k) for k in keys]
            misses = [i for i, page in enumerate(pages) if page is None]
            made = _render_all(render, misses, min_items, before_fork, each)
            for i, page in zip(misses, made, strict=True):
                pages[i] = page
        for module, key in unknown:  # digested for these pages: kept for the next build
            kept = self._inner.get(id(module))
            if kept is not None and kept[0] is module:
                self.store.put(key, kept[1])
        self.rendered += len(misses)
        for i in misses:
            if keys[i] is not None:
                self.store.put(keys[i], pages[i])
        return pages

    def _known_modules(self) -> list[tuple[object, str]]:
        """Put in the digest memo each module the content cache handed out whose digest
        was kept by an earlier build (by the module's content-cache key: a module's value
        follows from it); the others, with the key to keep theirs under."""
        start, unknown, inner = key_start("module-digest", fingerprint()), [], self._inner
        for module, content_key in HANDED_OUT.values():
            kept = inner.get(id(module))
            if kept is not None and kept[0] is module:
                continue  # digested for an earlier render of this build (a language)
            key = key_from(start, content_key)
            if (found := self.store.get(key, count=False)) is not None and len(found) == 32:
                self._inner[id(module)] = (module, found)
            else:
                unknown.append((module, key))
        return unknown

    def save(self) -> None:
        """Keep what this build used; forget what it worked out (``serve`` keeps one
        cache across rebuilds, each with new environments and values)."""
        self.store.save()
        self._digests.clear()  # ids are only stable while the values they name live
        self._inner.clear()
        self._shared.clear()
        self._reads.clear()
        self._starts.clear()
        self._parsed.clear()
        self._cold = None


def digest(value, memo: dict | None = None) -> bytes:
    """A SHA-256 of ``value`` that is the same in every process for equal values built
    the same way; :class:`Unhashable` for a value of a kind it does not know.

    Dicts and objects are taken in their own order (insertion order, the same in every
    process for the same code); sets, whose order changes with the process's string
    hashing, are sorted. Every part is typed and length-prefixed, so two different values
    never give the same bytes to hash. An object inside is written as its own digest
    (a Merkle tree), which ``memo`` ({id: (object, digest)}, the objects kept alive)
    keeps, so an object that many values share (the site settings) is read once."""
    out: list[bytes] = []
    _canonical(value, out, 0, {} if memo is None else memo)
    return hashlib.sha256(b"".join(out)).digest()


@functools.cache
def _name(name: str) -> bytes:
    data = name.encode()
    return b"%d:%s" % (len(data), data)


_SCALARS = (bool, int, float, complex, dt.date, dt.time, dt.timedelta, dt.tzinfo, PurePath,
            enum.Enum)
_TAGS: dict[type, bytes] = {}  # type -> its length-prefixed name and module, made once


def _tag(kind: type) -> bytes:
    tag = _TAGS.get(kind)
    if tag is None:
        name, module = kind.__qualname__.encode(), kind.__module__.encode()
        tag = _TAGS[kind] = b"%d:%s%d:%s" % (len(name), name, len(module), module)
    return tag


def _canonical(value, out: list[bytes], depth: int, memo: dict) -> None:
    """Append ``value``'s typed, length-prefixed parts to ``out`` (well under a
    microsecond a part: a module page's context is a hundred or so)."""
    kind = type(value)
    if kind is str or isinstance(value, str):  # Markup too: its type is in the tag
        data = value.encode("utf-8", "surrogatepass")
        out += (_tag(kind), b"%d:" % len(data), data)
        return
    if depth > MAX_DEPTH:
        raise Unhashable("nested too deeply (or a cycle)")
    kept = memo.get(id(value))  # an object already taken field by field (below)
    if kept is not None and kept[0] is value:
        out += (_tag(kind), b"#", kept[1])
        return
    if kind is tuple or kind is list:
        items = value
    elif kind is dict:  # as the isinstance(value, dict) case below, sooner
        items = [x for pair in value.items() for x in pair]
    elif value is None or isinstance(value, _SCALARS):
        data = repr(value).encode()
        out += (_tag(kind), b"%d:" % len(data), data)
        return
    elif isinstance(value, (bytes, bytearray)):
        out += (_tag(kind), b"%d:" % len(value), bytes(value))
        return
    elif callable(value):
        raise Unhashable("a function")  # its code, not a value, is what it gives
    elif isinstance(value, (list, tuple)):
        items = value
    elif isinstance(value, (set, frozenset)):
        items = sorted(value, key=lambda v: digest(v, memo))
    elif isinstance(value, dict):
        items = [x for pair in value.items() for x in pair]
    elif hasattr(value, "__dict__") or dataclasses.is_dataclass(value):
        # dataclasses, pydantic models, plain objects: by their digest, kept in ``memo``
        # (one already there was taken above)
        fields = (vars(value) if hasattr(value, "__dict__") else  # or their slots
                  {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        inner: list[bytes] = []
        _items(kind, [x for pair in fields.items() for x in pair], inner, depth, memo)
        kept = memo[id(value)] = (value, hashlib.sha256(b"".join(inner)).digest())
        out += (_tag(kind), b"#", kept[1])
        return
    else:
        raise Unhashable(kind.__name__)
    _items(kind, items, out, depth, memo)


def _items(kind: type, items, out: list[bytes], depth: int, memo: dict) -> None:
    out += (_tag(kind), b"[%d]" % len(items))
    depth += 1
    for item in items:  # the commonest leaves inline, as the calls below would write them
        leaf = type(item)
        if leaf is str:
            data = item.encode("utf-8", "surrogatepass")
            out += (_STR, b"%d:" % len(data), data)
        elif item is None:
            out.append(_NONE)
        elif leaf is bool or leaf is int:
            data = repr(item).encode()
            out += (_TAGS[leaf], b"%d:" % len(data), data)
        else:
            _canonical(item, out, depth, memo)


_STR = _tag(str)
_NONE = _tag(type(None)) + b"4:None"
_tag(bool), _tag(int)  # in _TAGS from the start: _items writes them inline


def _callable_or_digest(value) -> str:
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
    try:
        return digest(value).hex()
    except Unhashable:
        return repr(type(value))


def _tree(folder: Path) -> str:
    """Every file under ``folder`` (names and bytes), as one key; '' when it is absent."""
    if not folder.is_dir():
        return ""
    parts: list[str | bytes] = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            parts += [path.relative_to(folder).as_posix(), path.read_bytes()]
    return make_key(*parts)


def render_pages(cache: PageCache | None, count: int, render: Callable[..., bytes],
                 min_items: int, before_fork: Callable[[], None] | None = None,
                 each: Callable[[int, bytes], None] | None = None) -> list[bytes]:
    """``[render(i) for i in range(count)]`` on every core (``pmap``), through ``cache``
    when there is one: ``render(i, True)`` gives page ``i``'s key (None: uncacheable).
    ``render`` must be a module-level function (``pmap`` may fork workers for it);
    ``before_fork()`` runs first when workers will render the pages; ``each(i, page)``
    is told each page rendered, as soon as it is ready."""
    if cache is None:
        return _render_all(render, range(count), min_items, before_fork, each)
    return cache.render(count, render, min_items, before_fork, each)


def _render_all(render: Callable[..., bytes], items: Sequence[int], min_items: int,
                before_fork: Callable[[], None] | None,
                each: Callable[[int, object], None] | None = None) -> list:
    """``pmap(render, items, ...)``; fewer than ``min_items`` (a rebuild after an edit)
    rendered here, as pmap would, without importing the worker pool."""
    if len(items) < min_items:
        made = [render(i) for i in items]
        for i, page in zip(items, made, strict=True) if each else ():
            each(i, page)
        return made
    from generator.core.parallel import pmap

    return pmap(render, items, min_items=min_items, before_fork=before_fork, each=each)

