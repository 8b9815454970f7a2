"""WeasyPrint fenced: without the internals the fast path needs, guides are rendered the
plain way with one warning, never a crash (generator/pdf/internals.py)."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from generator.build import BuildOptions, build
from generator.load.project import load_project
from generator.pdf import internals
from generator.pdf.fastpdf import FastGuidePdf
from generator.publish import batch
from tests.conftest import copy_example
from tests.test_email_built import first_runners

RUNNERS = 2


@pytest.fixture
def internals_missing(monkeypatch):
    """An installed release that lacks one internal the fast path relies on."""
    monkeypatch.setattr(internals, "NEEDED", (*internals.NEEDED, (
        "weasyprint.document", "Page.internal_removed_in_a_later_release")))
    internals.reuse_supported.cache_clear()
    yield
    internals.reuse_supported.cache_clear()


def test_the_installed_weasyprint_has_every_internal_the_fast_path_needs():
    assert internals.missing() == []
    assert internals.reuse_supported() and internals.fallback_warning() is None


@pytest.mark.parametrize("needed", ["SUBSET_NEEDED", "SHAPING_NEEDED", "STYLES_NEEDED",
                                    "MEASURES_NEEDED", "TAGGING_NEEDED"])
def test_the_installed_weasyprint_has_what_each_patch_needs(needed):
    """Each module that reaches below WeasyPrint's API (fontsubset, shaped, styles,
    measures, tagging) steps aside alone when a name it needs is gone: here none is."""
    assert internals.missing(getattr(internals, needed)) == []


@pytest.mark.parametrize(("module", "needed"), [("shaped", "SHAPING_NEEDED"),
                                                ("styles", "STYLES_NEEDED"),
                                                ("measures", "MEASURES_NEEDED")])
def test_a_batch_memory_steps_aside_when_a_name_it_needs_is_gone(monkeypatch, module, needed):
    """shaped, styles and measures check their own internals, as tagging and fontsubset
    do: install() says False and patches nothing more."""
    import importlib

    patch = importlib.import_module(f"generator.pdf.{module}")
    monkeypatch.setattr(internals, needed, (*getattr(internals, needed), (
        "weasyprint.document", "Page.internal_removed_in_a_later_release")))
    assert patch.install() is False
    monkeypatch.undo()
    assert patch.install() is True


def test_missing_internals_fall_back_to_plain_rendering_with_one_warning(
        internals_missing, monkeypatch, tmp_path):
    assert internals.missing() == [
        "weasyprint.document.Page.internal_removed_in_a_later_release"]

    def refuse(*args, **kwargs):
        raise AssertionError("the fast path ran although its internals are missing")

    monkeypatch.setattr(FastGuidePdf, "__init__", refuse)
    monkeypatch.setattr(batch, "FAST_PATH_MIN_GUIDES", 1)  # the batch would choose it
    root = copy_example(tmp_path / "clinic", athletes=first_runners(RUNNERS))
    report = build(load_project(root), tmp_path / "out", BuildOptions(
        site=False, roster=root / "data" / "athletes.csv", formats=("pdf",), jobs=1))
    assert (report.guides.built, report.guides.failed) == (RUNNERS, 0)
    warnings = [p for p in report.problems if "WeasyPrint" in p.message]
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    assert "internal_removed_in_a_later_release" in warnings[0].message
    assert "rendered the plain way" in warnings[0].message
    assert report.exit_code() == 0  # a warning, not a failure
    pdfs = sorted((tmp_path / "out" / "guides").rglob("*.pdf"))
    assert len(pdfs) == RUNNERS
    for pdf in pdfs:
        assert len(PdfReader(pdf).pages) > 5
