"""Message order per socket: every chat's messages reach a reader once, in seq order.

Two server processes can relay frames out of order, and the channel layer can drop
one. `Sequencer` is the bookkeeping alone, without sockets or I/O, so it is tested
on its own (tests/chat/test_ordering.py): the socket (chat/consumers/base.py) feeds it
every live message frame, sends what it releases, and when it reports a gap waits
briefly before reading the missing messages from the database.
"""

from typing import Any

Frame = dict[str, Any]


class Sequencer:
    def __init__(self) -> None:
        # conversation id -> highest seq released to the reader
        self.delivered: dict[int, int] = {}
        # conversation id -> {seq: frame} that arrived ahead of a missing one
        self.held: dict[int, dict[int, Frame]] = {}

    def following(self, conversation_id: int) -> bool:
        return conversation_id in self.delivered

    def start(self, conversation_id: int, last_seq: int) -> None:
        """Follow a chat whose messages up to `last_seq` the reader has."""
        self.delivered[conversation_id] = last_seq
        self.held.pop(conversation_id, None)

    def stop(self, conversation_id: int) -> None:
        self.delivered.pop(conversation_id, None)
        self.held.pop(conversation_id, None)

    def receive(self, frame: Frame) -> tuple[list[Frame], bool]:
        """The frames to send now, in order, and whether a gap opened (frames are
        held behind a missing one: wait for it, then read the store)."""
        conversation_id, seq = frame["conversation"], frame["message"]["seq"]
        last = self.delivered.get(conversation_id)
        if last is None or seq <= last:  # not followed, or already sent
            return [], False
        held = self.held.setdefault(conversation_id, {})
        held[seq] = frame
        ready = []
        while (next_frame := held.pop(self.delivered[conversation_id] + 1, None)) is not None:
            ready.append(next_frame)
            self.delivered[conversation_id] += 1
        if not held:
            del self.held[conversation_id]
        return ready, conversation_id in self.held

    def caught_up(self, conversation_id: int, seqs: list[int], *, last_seq: int) -> None:
        """The store was read after `last_seq` (returning `seqs`): what was held is in it."""
        self.delivered[conversation_id] = max([last_seq, *seqs])
        self.held.pop(conversation_id, None)

    def skip_to(self, conversation_id: int, seq: int) -> None:
        """Count messages up to `seq` as sent (those this reader never receives)."""
        self.delivered[conversation_id] = max(self.delivered[conversation_id], seq)

    def behind(self, latest: dict[int, int]) -> dict[int, int]:
        """Chats whose latest seq in the store is past what was released: chat -> from."""
        return {
            conversation_id: self.delivered[conversation_id]
            for conversation_id, last_seq in latest.items()
            if conversation_id in self.delivered and last_seq > self.delivered[conversation_id]
        }
