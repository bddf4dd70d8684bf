"""Garbage collection for a Daphne holding thousands of sockets.

Each open socket is about 130 objects the collector tracks (Twisted, autobahn, Daphne,
Channels and ours), and a full collection scans them all: with 10,000 widgets one
Daphne stopped for 0.6–1.5 s, several times a minute while they pinged, and every
socket of the process waited (docs/performance.md, "Garbage collection"). So what
survives a collection of the middle generation (about once a second) is frozen: moved
out of the collector's sight, as at start-up. Frozen objects that are not in cycles
are still freed the moment nothing refers to them, as the tasks and futures a
socket's ping replaces are. (Freezing only what survived full collections left about
200,000 of those to scan every 10 s while 10,000 widgets pinged: 150–200 ms pauses.)

A closed socket leaves about 50 objects in reference cycles (Twisted's and Daphne's
own, about 18 KiB), which a frozen set never gives back. So once the process's small
objects have grown by a quarter since the last thaw (the share of new long-lived
objects at which Python itself would scan everything), or `GC_THAW_SECONDS` have
passed, everything is thawed and the next full collection scans it all once and
frees them. Sockets opened since the last thaw are live, not garbage, so their
share of the growth does not count: while sockets open by the thousand (a reconnect
after a deploy) a thaw would free nothing and stop the process for as long as one
scan of everything takes (0.1 s per 1,000 sockets). Sockets that stay open, as idle
widgets do, never cause one; a churn of sockets does, as often as it would have
without the freezing. Growth that is live for other reasons is caught afterwards:
a thaw that frees next to nothing doubles the growth the next one waits for, up to
twice the heap, and one that frees something brings it back to a quarter.
"""

import gc
import sys
import time

from django.conf import settings

GROWTH_BEFORE_THAW = 0.25
MOST_GROWTH_BEFORE_THAW = 1.0
# A thaw that freed less than this share of the small objects found nothing to free.
FREED_BY_A_USEFUL_THAW = 0.02
# Python's small objects an open widget socket holds: 292 each at 10,000 (bench sockets).
BLOCKS_PER_OPEN_SOCKET = 300
# Middle collections come dozens of times a second while sockets open; the growth
# check walks Python's memory pools (0.05-0.3 ms), so at most once a second.
CHECK_EVERY_SECONDS = 1.0


class _Sockets:
    open = 0


SOCKETS = _Sockets()  # counted by realtime.sockets.FrameSocket


class _FreezeSurvivors:
    def __init__(self, thaw_seconds: float) -> None:
        self.thaw_seconds = thaw_seconds
        self.thawed_at = self.checked_at = time.monotonic()
        self.blocks_after_thaw = self.blocks_at_thaw = sys.getallocatedblocks()
        self.growth_before_thaw = GROWTH_BEFORE_THAW
        self.sockets_after_thaw = SOCKETS.open
        self.thawing = False

    def __call__(self, phase: str, info: dict) -> None:
        if phase != "stop" or info["generation"] == 0:
            return
        now = time.monotonic()
        if self.thawing:
            # Nothing is frozen until a full collection has scanned everything.
            if info["generation"] == 2:
                gc.freeze()
                self.thawing, self.thawed_at = False, now
                self.blocks_after_thaw = sys.getallocatedblocks()
                self.sockets_after_thaw = SOCKETS.open
                freed = 1 - self.blocks_after_thaw / self.blocks_at_thaw
                self.growth_before_thaw = (
                    GROWTH_BEFORE_THAW
                    if freed >= FREED_BY_A_USEFUL_THAW
                    else min(2 * self.growth_before_thaw, MOST_GROWTH_BEFORE_THAW)
                )
            return
        # Freezing also resets the collector's counts: no full collection comes by
        # itself any more, only after a thaw.
        gc.freeze()
        if now - self.checked_at < CHECK_EVERY_SECONDS:
            return
        self.checked_at = now
        # Python's small objects, not the frozen ones: counting those walks them all
        # (a quarter of a second at 10,000 sockets).
        blocks = sys.getallocatedblocks()
        opened = max(0, SOCKETS.open - self.sockets_after_thaw)
        if (
            blocks - opened * BLOCKS_PER_OPEN_SOCKET
            > self.blocks_after_thaw * (1 + self.growth_before_thaw)
            or now - self.thawed_at >= self.thaw_seconds
        ):
            gc.unfreeze()  # the next full collection sees everything, and frees old cycles
            self.thawing, self.blocks_at_thaw = True, blocks


def freeze_what_lasts() -> None:
    """Freeze what is loaded by now (Django, the apps, their libraries: as long-lived as
    the process), then whatever survives each collection but the youngest."""
    gc.collect()
    gc.freeze()
    gc.callbacks.append(_FreezeSurvivors(settings.GC_THAW_SECONDS))
