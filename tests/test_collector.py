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


@pytest.fixture
def freeze_survivors():
    gc.collect()
    gc.freeze()
    callback = _FreezeSurvivors(thaw_seconds=3600)
    gc.callbacks.append(callback)
    yield callback
    gc.callbacks.remove(callback)
    gc.unfreeze()


def test_survivors_of_a_full_collection_are_frozen_until_a_thaw_frees_their_cycles(
    freeze_survivors,
):
    survivor = Node()
    gone = weakref.ref(survivor)
    gc.collect()
    frozen = gc.get_freeze_count()
    assert frozen > 0

    del survivor
    gc.collect()
    assert gone() is not None  # frozen: a full collection no longer looks at it
    young = Node()
    gc.collect()
    assert gc.get_freeze_count() > frozen  # the next survivors join the frozen set

    freeze_survivors.thawed_at -= 3600  # time for a thaw, though hardly anything grew
    gc.collect()  # ends with the thaw
    gc.collect()  # sees everything again
    assert gone() is None
    assert young.me is young


def test_a_quarter_more_frozen_objects_brings_a_thaw(freeze_survivors):
    """Sockets that open and close (page views) leave cycles in the frozen set; once
    it has grown by a quarter, one full collection frees them."""
    closed = [Node() for _ in range(gc.get_freeze_count() // 2)]
    gone = weakref.ref(closed[0])
    gc.collect()  # frozen: half as many again, so the collection ends with a thaw
    del closed
    gc.collect()  # sees everything again
    assert gone() is None
