"""Large content trees load and render on every core, with the same result as serially."""

from __future__ import annotations

import generator.core.parallel as parallel
from generator.load.content import load_modules


def square(x: int) -> int:
    return x * x


def test_pmap_keeps_input_order_on_the_parallel_path():
    items = list(range(500))
    assert parallel.pmap(square, items, min_items=10) == [x * x for x in items]


def test_many_modules_load_the_same_in_parallel_and_serially(tmp_path, monkeypatch):
    content = tmp_path / "content"
    content.mkdir()
    for i in range(150):
        (content / f"m{i:03d}.md").write_text(
            f"---\ntitle: Module {i}\norder: {i % 7}\n---\n## Part\n\nText {i} *here*.\n",
            encoding="utf-8")
    (content / "m999.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    together = load_modules(content, tmp_path)
    monkeypatch.setattr(parallel, "MIN_ITEMS", 10**9)  # force the serial path
    monkeypatch.setattr(parallel.pmap, "__defaults__", (10**9, *parallel.pmap.__defaults__[1:]))
    alone = load_modules(content, tmp_path)
    assert together == alone
    assert len(together[0]) == 150
    assert [str(p) for p in together[1]] == [str(p) for p in alone[1]]
    assert str(together[1][0]).startswith("content/m999.md:3: invalid YAML")


def test_pmap_prepares_forked_workers_only_when_it_forks(monkeypatch):
    """``before_fork`` runs once, before workers are forked, and never for a serial run."""
    calls = []
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    assert parallel.pmap(square, list(range(5)), min_items=10,
                         before_fork=lambda: calls.append("serial")) == [0, 1, 4, 9, 16]
    assert calls == []
    items = list(range(40))
    assert parallel.pmap(square, items, min_items=10,
                         before_fork=lambda: calls.append("forked")) == [x * x for x in items]
    assert calls == ["forked"]


def test_pmap_tells_each_result_in_input_order_on_both_paths(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    for items in ([3, 1, 2], list(range(60))):  # in this process, then by workers
        told: list[tuple[int, int]] = []
        found = parallel.pmap(square, items, min_items=10, each=lambda *pair, told=told:
                              told.append(pair))
        assert found == [x * x for x in items]
        assert told == list(zip(items, found, strict=True))


def test_meanwhile_runs_once_here_while_the_workers_work_and_never_without_them(monkeypatch):
    import multiprocessing
    import os

    monkeypatch.setattr(parallel, "cores", lambda: 2)
    seen: list[tuple[int, int]] = []

    def meanwhile():
        seen.append((os.getpid(), len(multiprocessing.active_children())))

    assert parallel.pmap(square, [1, 2], min_items=10, meanwhile=meanwhile) == [1, 4]
    assert seen == []  # no workers: the caller's own work is not done here
    items = list(range(60))
    assert parallel.pmap(square, items, min_items=10,
                         meanwhile=meanwhile) == [x * x for x in items]
    assert seen == [(os.getpid(), 2)]  # in this process, with both workers started
