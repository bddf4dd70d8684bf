"""realtime/collector.py: what survives a full collection is frozen, so the next ones
scan only what came since; a thaw lets one full collection free the cycles that were
frozen (a closed socket's)."""

import gc
import weakref

import pytest

from realtime.collector import _FreezeSurvivors


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
    gc.callbacks.append(callback)
    yield callback
    gc.callbacks.remove(callback)
    gc.unfreeze()
    gc.callbacks.extend(others)


def test_survivors_of_a_full_collection_are_frozen_until_a_thaw_frees_their_cycles(
    freeze_survivors,
):
    survivor = Node()
    gone = weakref.ref(survivor)
    gc.collect()
    assert frozen(survivor)

    del survivor
    gc.collect()
    assert gone() is not None  # frozen: a full collection no longer looks at it

    freeze_survivors.thawed_at -= 3600  # time for a thaw, though hardly anything grew
    gc.collect()  # ends with the thaw
    gc.collect()  # sees everything again
    assert gone() is None


def test_a_quarter_more_frozen_objects_brings_a_thaw(freeze_survivors):
    """Sockets that open and close (page views) leave cycles in the frozen set; once
    it has grown by a quarter, one full collection frees them."""
    gc.disable()  # no collection of its own while they are made
    try:
        closed = [Node() for _ in range(gc.get_freeze_count() // 2)]
    finally:
        gc.enable()
    gone = weakref.ref(closed[0])
    gc.collect()  # frozen: half as many again, so the collection ends with a thaw
    del closed
    gc.collect()  # sees everything again
    assert gone() is None
