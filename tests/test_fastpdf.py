"""The PDF fast path (shared pages laid out once) gives the same guide as a full render."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from generator.load.inputs import load_inputs
from generator.load.project import load_project
from generator.pdf.fastpdf import reuse_order, shared_key
from generator.plan.guideplan import plan_guide
from generator.publish.guides import GuideMaker
from generator.render.renderer import PdfPages
from tests.guidekit import EXAMPLE_ROSTER, REPO_ROOT, source_date_epoch

# four athletes: two brands, first-timer and calves modules in and out, so the
# shared part takes several shapes and at least one layout is reused
IDS = ["hb-zoe-01", "hb-soren-02", "hb-tom-10", "sm-layla-04", "sm-ana-11"]
LONG_NOTES = " ".join(["Keep the long runs easy this week and tell us about any niggles."] * 18)


def outline_titles(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(depth, title, page index) for every bookmark."""
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item)))

    walk(reader.outline, 0)
    return found


def describe(data: bytes) -> dict:
    reader = PdfReader(io.BytesIO(data))
    links = []
    for index, page in enumerate(reader.pages):
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") == "/Link" and "/Dest" in annot:
                links.append((index, str(annot["/Dest"])))
    named = {name: reader.get_destination_page_number(dest)
             for name, dest in reader.named_destinations.items()}
    return {
        "pages": len(reader.pages),
        "sizes": [tuple(round(float(x)) for x in p.mediabox[2:]) for p in reader.pages],
        "text": [p.extract_text() for p in reader.pages],
        "outline": outline_titles(reader),
        "links": links,
        "targets": {str(dest): named.get(str(dest)) for _, dest in links},
        "title": reader.metadata.title,
        "lang": str(reader.trailer["/Root"].get("/Lang")),
        "tagged": "/StructTreeRoot" in reader.trailer["/Root"],
    }


@pytest.fixture(scope="module")
def both():
    with source_date_epoch():
        inputs = load_inputs(load_project(REPO_ROOT), EXAMPLE_ROSTER)
        fast, full = GuideMaker(inputs), GuideMaker(inputs)
        full.fast = False
        athletes = {a.id: a for a in inputs.athletes}
        plans = {i: plan_guide(inputs, athletes[i]) for i in IDS}
        # a batch queues guides that reuse the same parts together (reuse_order): here the
        # twins below come right after the first runner, whose pages they reuse
        pairs = {IDS[0]: (fast.make(plans[IDS[0]], ("pdf",)).files["pdf"],
                          full.make(plans[IDS[0]], ("pdf",)).files["pdf"])}
        # a runner with the same plan shape as the first (another name and id) reuses
        # the first runner's shared pages
        twin = athletes[IDS[0]].model_copy(update={"id": "twin-01", "name": "Twin Runner"})
        before = dict(fast._fast.stats)
        twin_pdf = fast.make(plan_guide(inputs, twin), ("pdf",)).files["pdf"]
        twin_full = full.make(plan_guide(inputs, twin), ("pdf",)).files["pdf"]
        stats = {k: fast._fast.stats[k] - before[k] for k in before}
        # longer clinic notes push the closing and shared pages further back: their
        # layouts are reused with new page numbers in the margins (frames)
        longer = twin.model_copy(update={"id": "twin-02", "notes": LONG_NOTES})
        before = dict(fast._fast.stats)
        moved = (fast.make(plan_guide(inputs, longer), ("pdf",)).files["pdf"],
                 full.make(plan_guide(inputs, longer), ("pdf",)).files["pdf"])
        moved_stats = {k: fast._fast.stats[k] - before[k] for k in before}
        pairs.update({i: (fast.make(plans[i], ("pdf",)).files["pdf"],
                          full.make(plans[i], ("pdf",)).files["pdf"]) for i in IDS[1:]})
    return pairs, stats, (twin_pdf, twin_full), moved, moved_stats


@pytest.mark.parametrize("athlete_id", IDS)
def test_fast_path_pdf_matches_full_render(both, athlete_id):
    fast_pdf, full_pdf = both[0][athlete_id]
    fast, full = describe(fast_pdf), describe(full_pdf)
    assert fast["pages"] == full["pages"]
    assert fast["sizes"] == full["sizes"]
    assert fast["outline"] == full["outline"]
    assert fast["links"] == full["links"]
    assert fast["targets"] == full["targets"]
    assert all(page is not None for page in fast["targets"].values())
    assert (fast["title"], fast["lang"], fast["tagged"]) == (full["title"], full["lang"], True)
    assert fast["text"] == full["text"]


@pytest.mark.parametrize("athlete_id", IDS)
def test_fast_path_page_labels_count_the_whole_guide(both, athlete_id):
    pages = describe(both[0][athlete_id][0])
    total = pages["pages"]
    for number, text in enumerate(pages["text"][1:], start=2):  # the cover has no footer
        assert f"Page {number} of {total}" in text


def test_a_runner_with_the_same_plan_shape_reuses_the_shared_layout(both):
    stats, (fast_pdf, full_pdf) = both[1], both[2]
    # contents, closing pages and shared modules: all three repeated parts are reused
    assert stats == {"laid_out": 0, "reused": 3, "relayouts": 0}
    assert describe(fast_pdf) == describe(full_pdf)
    assert "Twin Runner" in describe(fast_pdf)["text"][0]


def test_repeated_parts_are_reused_with_new_page_numbers(both):
    (fast_pdf, full_pdf), stats = both[3], both[4]
    fast, full = describe(fast_pdf), describe(full_pdf)
    twin = describe(both[2][0])
    assert fast["pages"] > twin["pages"]  # the notes took more room
    # only the contents (new numbers) were laid out; closing and shared pages reused
    assert stats == {"laid_out": 1, "reused": 2, "relayouts": 0}
    assert fast == full
    for number, text in enumerate(fast["text"][1:], start=2):
        assert f"Page {number} of {fast['pages']}" in text


def test_replayed_painting_gives_the_same_bytes_as_painting_every_page(monkeypatch):
    """paintcache.py: repeated pages painted once, then replayed, change no byte."""
    import generator.pdf.paintcache as paintcache

    with source_date_epoch():
        inputs = load_inputs(load_project(REPO_ROOT), EXAMPLE_ROSTER)
        athletes = {a.id: a for a in inputs.athletes}
        # the twin shares the first runner's repeated pages; the long notes move them
        runners = [athletes[i] for i in IDS]
        twin = runners[0].model_copy(update={"id": "twin-01", "name": "Twin Runner"})
        runners += [twin, twin.model_copy(update={"id": "twin-02", "notes": LONG_NOTES})]
        runners.sort(key=lambda a: reuse_order(plan_guide(inputs, a)))  # as a batch does
        made = {}
        for enabled in (True, False):
            monkeypatch.setattr(paintcache, "enabled", enabled)
            before = dict(paintcache.counts)
            maker = GuideMaker(inputs)
            made[enabled] = [maker.make(plan_guide(inputs, a), ("pdf",)).files["pdf"]
                             for a in runners]
            counted = {k: paintcache.counts[k] - before[k] for k in before}
            if enabled:
                replays = counted
    assert made[True] == made[False]
    assert replays["replayed"] > replays["recorded"] > 0  # pages were replayed, more than once


def test_the_fast_path_writes_the_same_bytes_as_a_full_render(both):
    """Which path made a guide never shows: ``guidegen guide`` (plain) and ``batch`` (fast)
    give the same file."""
    pairs, _stats, twin, moved, _moved_stats = both
    for fast_pdf, full_pdf in [*pairs.values(), twin, moved]:
        assert fast_pdf == full_pdf


def test_guidegen_guide_renders_one_guide_the_plain_way(run_cli, tmp_path, monkeypatch):
    """One guide has nothing to reuse: the CLI skips the fast path (issue 16, item 6)."""
    from generator.pdf.fastpdf import FastGuidePdf

    def refuse(self, guide):
        raise AssertionError("guidegen guide took the fast path")

    monkeypatch.setattr(FastGuidePdf, "render", refuse)
    out = tmp_path / "guide.pdf"
    with source_date_epoch():
        result = run_cli(["guide", EXAMPLE_ROSTER, "--id", IDS[0], "--format", "pdf",
                          "-o", out], cwd=REPO_ROOT)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert out.read_bytes()[:5] == b"%PDF-"


def test_a_batch_queues_guides_that_reuse_the_same_parts_together():
    """reuse_order (the batch's queue): every distinct repeated part (brand, language and
    its exact HTML) is needed by one unbroken run of guides, so a worker's small cache
    (CACHE_SIZE) holds it while it is needed, and never needs it again once evicted."""
    with source_date_epoch():
        inputs = load_inputs(load_project(REPO_ROOT), EXAMPLE_ROSTER)
        maker = GuideMaker(inputs)
        plans = [plan_guide(inputs, a) for a in inputs.athletes]
        plans += [plan_guide(inputs, a.model_copy(update={"id": f"zz-{a.id}", "name": "Twin"}))
                  for a in inputs.athletes]  # the same parts, far apart in roster order
        for part in ("shared", "closing"):
            runs = []
            for plan in sorted(plans, key=reuse_order):
                html = maker.renderer.guide_html(plan, "pdf", part, PdfPages())
                key = (shared_key(plan), html)
                if not runs or runs[-1] != key:
                    runs.append(key)
            assert len(runs) == len(set(runs)), part  # no part comes back after a break
            assert len(runs) < len(plans) / 2, part  # and parts are shared
