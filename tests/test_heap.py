"""core/heap.py: a batch worker collects garbage between guides, never during one, and
nothing it drops is kept."""

from __future__ import annotations

import gc
import weakref

import pytest

from generator.core.heap import GuideCollector


class Node:
    def __init__(self):
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture
def collection_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_no_collection_during_a_guide_and_its_cycles_freed_after(collection_on):
    collector = GuideCollector(full_every=1000)
    runs = []
    gc.callbacks.append(lambda phase, info: runs.append(info["generation"]))
    try:
        with collector.guide():
            assert not gc.isenabled()
            garbage = [Node() for _ in range(50_000)]  # would trigger collections
            ref = weakref.ref(garbage[0])
            del garbage
            assert ref() is not None  # a cycle: still there while the guide renders
            assert runs == []
        assert ref() is None  # collected once the guide is done
        assert gc.isenabled()
    finally:
        gc.callbacks.pop()


def test_full_collection_every_n_guides_frees_old_cycles(collection_on):
    collector = GuideCollector(full_every=3)
    old = Node()
    ref = weakref.ref(old)
    gc.collect()  # now in the oldest generation, out of reach of young collections
    del old
    with collector.guide():
        pass
    with collector.guide():
        pass
    assert ref() is not None  # young collections leave the oldest generation alone
    with collector.guide():
        pass
    assert ref() is None  # the third guide ends with a full collection


def test_collection_back_on_after_an_error_and_off_stays_off(collection_on):
    collector = GuideCollector()
    with pytest.raises(KeyError), collector.guide():
        raise KeyError("a failing guide")
    assert gc.isenabled()
    gc.disable()
    with collector.guide():
        pass
    assert not gc.isenabled()  # a caller that turned it off keeps it off
