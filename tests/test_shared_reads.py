"""`async_db.read_once_for_all_waiting`: a burst of hellos shares the availability read,
and nobody is told what was read before they asked."""

import asyncio

import pytest

from realtime.async_db import read_once_for_all_waiting


class Counter:
    """A read whose result says which read it was; it waits until `release` is set."""

    def __init__(self) -> None:
        self.reads = 0
        self.release = asyncio.Event()
        self.release.set()
        self.fail = False

    async def __call__(self) -> int:
        self.reads += 1
        number = self.reads
        await self.release.wait()
        if self.fail:
            raise RuntimeError("database gone")
        return number


async def test_callers_at_once_share_one_read():
    read = Counter()
    shared = read_once_for_all_waiting(read)
    assert await asyncio.gather(*(shared() for _ in range(20))) == [1] * 20
    assert read.reads == 1


async def test_a_caller_during_a_read_gets_the_next_one():
    read = Counter()
    read.release.clear()
    shared = read_once_for_all_waiting(read)
    first = asyncio.ensure_future(shared())
    await asyncio.sleep(0)  # the first read is under way
    later = [asyncio.ensure_future(shared()) for _ in range(5)]
    await asyncio.sleep(0)
    read.release.set()
    assert await first == 1
    assert await asyncio.gather(*later) == [2] * 5  # read after they asked
    assert read.reads == 2


async def test_a_caller_going_away_leaves_the_read_to_the_others():
    read = Counter()
    read.release.clear()
    shared = read_once_for_all_waiting(read)
    leaving, staying = asyncio.ensure_future(shared()), asyncio.ensure_future(shared())
    await asyncio.sleep(0)
    leaving.cancel()
    read.release.set()
    assert await staying == 1
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_a_failed_read_reaches_every_waiter_and_the_next_caller_reads_anew():
    read = Counter()
    read.fail = True
    shared = read_once_for_all_waiting(read)
    outcomes = await asyncio.gather(shared(), shared(), return_exceptions=True)
    assert [str(outcome) for outcome in outcomes] == ["database gone"] * 2
    read.fail = False
    assert await shared() == 2
