"""Garbage collection for a Daphne holding thousands of sockets.

Each open socket is about 130 objects the collector tracks (Twisted, autobahn, Daphne,
Channels and ours), and a full collection scans them all: with 10,000 widgets one
Daphne stopped for 0.6–1.5 s, several times a minute while they pinged, and every
socket of the process waited (docs/performance.md, "Garbage collection"). So what
survives a full collection is frozen (moved out of the collector's sight, as at
start-up), and the next full collections scan only what came since.

A closed socket leaves about 50 objects in reference cycles (Twisted's and Daphne's
own, about 18 KiB), which a frozen set never gives back. So once the frozen objects
have grown by a quarter since the last thaw (the share of new long-lived objects at
which Python itself would scan everything), or `GC_THAW_SECONDS` have passed, the next
full collection scans everything once and frees them. Sockets that stay open, as
idle widgets do, never cause one; a churn of sockets does, as often as it would have
without the freezing.
"""

import gc
import time

from django.conf import settings

GROWTH_BEFORE_THAW = 1.25


class _FreezeSurvivors:
    def __init__(self, thaw_seconds: float) -> None:
        self.thaw_seconds = thaw_seconds
        self.thawed_at = time.monotonic()
        self.frozen_after_thaw = gc.get_freeze_count()
        self.thawing = False

    def __call__(self, phase: str, info: dict) -> None:
        if phase != "stop" or info["generation"] != 2:
            return
        gc.freeze()
        now, frozen = time.monotonic(), gc.get_freeze_count()
        if self.thawing:  # this collection scanned everything
            self.thawing, self.thawed_at, self.frozen_after_thaw = False, now, frozen
        elif (
            frozen > self.frozen_after_thaw * GROWTH_BEFORE_THAW
            or now - self.thawed_at >= self.thaw_seconds
        ):
            gc.unfreeze()  # the next full collection sees everything, and frees old cycles
            self.thawing = True


def freeze_what_lasts() -> None:
    """Freeze what is loaded by now (Django, the apps, their libraries: as long-lived as
    the process), then whatever survives each full collection."""
    gc.collect()
    gc.freeze()
    gc.callbacks.append(_FreezeSurvivors(settings.GC_THAW_SECONDS))
