"""realtime/collector.py: what survives a collection of the middle generation is
frozen, so no full collection scans it again; a thaw lets one full collection free
the cycles that were frozen (a closed socket's)."""

import gc
import sys
import weakref

import pytest

from realtime.collector import (
    BLOCKS_PER_OPEN_SOCKET,
    CHECK_EVERY_SECONDS,
    SOCKETS,
    _FreezeSurvivors,
)


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def frozen(thing: object) -> bool:
    """Frozen objects are in no generation the collector scans."""
    return not any(tracked is thing for tracked in gc.get_objects(generation=2))


@pytest.fixture
def freeze_survivors():
    # Alone: a Daphne's own (config.asgi, if a test loaded it) would freeze and thaw too.
    others = [c for c in gc.callbacks if isinstance(c, _FreezeSurvivors)]
    for callback in others:
        gc.callbacks.remove(callback)
    gc.collect()
    gc.freeze()
    callback = _FreezeSurvivors(thaw_seconds=3600)
    callback.checked_at -= CHECK_EVERY_SECONDS  # the first middle collection checks
    gc.callbacks.append(callback)
    yield callback
    gc.callbacks.remove(callback)
    gc.unfreeze()
    gc.callbacks.extend(others)


def test_survivors_of_a_middle_generation_collection_are_frozen(freeze_survivors):
    """A ping replaces a socket's waiting tasks, which then live until its next ping:
    left in the collector's sight, every full collection rescanned all of them."""
    survivor = Node()
    gc.collect(1)
    assert frozen(survivor)


def test_a_thaw_lets_one_full_collection_free_the_cycles_that_were_frozen(freeze_survivors):
    survivor = Node()
    gone = weakref.ref(survivor)
    gc.collect(1)
    del survivor
    gc.collect()
    assert gone() is not None  # frozen: a full collection no longer looks at it

    freeze_survivors.thawed_at -= 3600  # time for a thaw, though hardly anything grew
    freeze_survivors.checked_at -= CHECK_EVERY_SECONDS
    gc.collect(1)  # ends with the thaw
    gc.collect(1)  # young collections freeze nothing back until the full one has run
    assert not frozen(gone())
    gc.collect()  # sees everything again
    assert gone() is None


def test_the_growth_is_checked_at_most_once_a_second(freeze_survivors):
    gc.collect(1)  # checks
    freeze_survivors.thawed_at -= 3600  # a thaw is due from now on
    gc.collect(1)  # within the second: no check, no thaw
    assert not freeze_survivors.thawing
    freeze_survivors.checked_at -= CHECK_EVERY_SECONDS
    gc.collect(1)
    assert freeze_survivors.thawing


def test_a_quarter_more_small_objects_brings_a_thaw(freeze_survivors):
    """Sockets that open and close (page views) leave cycles in the frozen set; once
    the process's small objects have grown by a quarter, one full collection frees
    them."""
    gc.disable()  # no collection of its own while they are made
    try:
        # At least two small blocks each: the object and its attributes.
        closed = [Node() for _ in range(sys.getallocatedblocks() // 3)]
    finally:
        gc.enable()
    gone = weakref.ref(closed[0])
    gc.collect(1)  # frozen, and the growth brings a thaw
    del closed
    gc.collect()  # sees everything again
    assert gone() is None


def test_sockets_opened_since_the_last_thaw_are_not_growth(freeze_survivors):
    """A reconnect after a deploy opens sockets by the thousand: the heap grows with
    live objects, and a thaw would stop the process for a full scan that frees
    nothing (0.9 s at 10,000 widgets, as the last of them connected)."""
    before = sys.getallocatedblocks()
    gc.disable()
    try:
        live = [[0] for _ in range(before // 3)]  # two blocks each: over a quarter
    finally:
        gc.enable()
    opened = (sys.getallocatedblocks() - before) // BLOCKS_PER_OPEN_SOCKET + 1
    SOCKETS.open += opened
    try:
        gc.collect(1)
        assert not freeze_survivors.thawing
        SOCKETS.open -= opened
        opened = 0
        freeze_survivors.checked_at -= CHECK_EVERY_SECONDS
        gc.collect(1)  # the same growth, with no socket to explain it
        assert freeze_survivors.thawing
    finally:
        SOCKETS.open -= opened
        del live


def thaw_now(freeze_survivors) -> None:
    freeze_survivors.thawed_at -= 3600
    freeze_survivors.checked_at -= CHECK_EVERY_SECONDS
    gc.collect(1)  # ends with the thaw
    gc.collect()  # the full collection that follows it


def test_a_thaw_that_frees_nothing_makes_the_next_wait_for_more_growth(freeze_survivors):
    """Sockets opening by the hundred grow the heap with live objects: a thaw every
    quarter of growth would stop the process again and again for nothing."""
    thaw_now(freeze_survivors)
    assert freeze_survivors.growth_before_thaw == 0.5
    thaw_now(freeze_survivors)
    thaw_now(freeze_survivors)
    assert freeze_survivors.growth_before_thaw == 1.0  # at most twice the heap

    gc.disable()
    try:
        closed = [Node() for _ in range(sys.getallocatedblocks() // 10)]
    finally:
        gc.enable()
    gc.collect(1)  # frozen with their cycles
    del closed
    thaw_now(freeze_survivors)  # frees them
    assert freeze_survivors.growth_before_thaw == 0.25
