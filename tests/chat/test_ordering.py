"""Every followed chat's messages are released once and in seq order, whatever
order the channel layer delivers them in (chat/ordering.py, no sockets involved)."""

from hypothesis import given
from hypothesis import strategies as st

from chat.ordering import Sequencer


def frame(seq: int, conversation: int = 1) -> dict:
    return {"type": "message", "conversation": conversation, "message": {"seq": seq}}


def seqs(frames: list[dict]) -> list[int]:
    return [f["message"]["seq"] for f in frames]


def test_in_order_frames_go_straight_through_and_repeats_are_dropped():
    sequencer = Sequencer()
    sequencer.start(1, 0)
    assert [seqs(sequencer.receive(frame(n))[0]) for n in (1, 2, 2, 1, 3)] == [
        [1],
        [2],
        [],
        [],
        [3],
    ]


def test_a_frame_ahead_of_a_missing_one_waits_for_it():
    sequencer = Sequencer()
    sequencer.start(1, 0)
    assert sequencer.receive(frame(2)) == ([], True)  # a gap: wait, then read the store
    assert sequencer.receive(frame(3)) == ([], True)
    ready, gap = sequencer.receive(frame(1))
    assert (seqs(ready), gap) == ([1, 2, 3], False)


def test_a_chat_nobody_follows_releases_nothing():
    sequencer = Sequencer()
    assert sequencer.receive(frame(1, conversation=9)) == ([], False)
    sequencer.start(1, 0)
    sequencer.stop(1)
    assert sequencer.receive(frame(1)) == ([], False)


def test_reading_the_store_closes_the_gap_and_what_it_sent_is_not_sent_again():
    sequencer = Sequencer()
    sequencer.start(1, 4)
    sequencer.receive(frame(6))
    sequencer.caught_up(1, [5, 6, 7], last_seq=4)  # the store had 5 (lost) to 7
    assert sequencer.receive(frame(7)) == ([], False)
    assert seqs(sequencer.receive(frame(8))[0]) == [8]
    assert sequencer.behind({1: 8}) == {}
    assert sequencer.behind({1: 10}) == {1: 8}


def test_messages_a_customer_never_gets_do_not_hold_later_ones_back():
    sequencer = Sequencer()
    sequencer.start(1, 3)
    sequencer.skip_to(1, 5)  # 4 and 5 were whispers
    assert seqs(sequencer.receive(frame(6))[0]) == [6]
    sequencer.skip_to(1, 2)  # never backwards
    assert sequencer.delivered[1] == 6


@given(st.permutations(list(range(1, 30))), st.sets(st.integers(1, 29), max_size=5))
def test_any_arrival_order_with_drops_releases_each_message_once_in_order(order, dropped):
    sequencer = Sequencer()
    sequencer.start(1, 0)
    released = []
    for n in order:
        if n in dropped:
            continue
        released += seqs(sequencer.receive(frame(n))[0])
        released += seqs(sequencer.receive(frame(n))[0])  # the layer may repeat a frame
    if dropped:  # what the reader then gets from the store
        first_missing = sequencer.delivered[1] + 1
        sequencer.caught_up(1, list(range(first_missing, 30)), last_seq=first_missing - 1)
        released += list(range(first_missing, 30))
    assert released == list(range(1, 30))
