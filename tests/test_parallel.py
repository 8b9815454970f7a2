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
    monkeypatch.setattr(parallel.pmap, "__defaults__", (10**9,))
    alone = load_modules(content, tmp_path)
    assert together == alone
    assert len(together[0]) == 150
    assert [str(p) for p in together[1]] == [str(p) for p in alone[1]]
    assert str(together[1][0]).startswith("content/m999.md:3: invalid YAML")
