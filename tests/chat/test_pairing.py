"""The drain's pairing (chat.services._shared._pair_up) against the rule written out
plainly: oldest chat first, to the least-loaded expert who may serve it (then the one
who waited longest, then the lowest id), passing over a chat only experts who could be
its customer are free for. Unsaved rows: no database."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from hypothesis import given, settings
from hypothesis import strategies as st

from chat.models import Conversation, Visitor
from chat.services._shared import EARLIEST, _may_serve, _pair_first_in_line, _pair_up
from community.models import Expert

NETWORKS = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
EMAILS = ["", "ann@shop.test", "bo@shop.test"]
START = datetime(2020, 1, 1, tzinfo=UTC)


def turn(expert):
    """Whose turn it is: fewest open chats, then longest without one, then lowest id."""
    return (expert.open_chat_count, expert.last_assigned_at or EARLIEST, expert.pk)


def rule(waiting, experts, networks):
    pairs = []
    for conversation in waiting:
        free = [e for e in experts if e.open_chat_count < e.max_concurrent_chats]
        candidates = [e for e in free if _may_serve(e, conversation, networks)]
        if candidates:
            expert = min(candidates, key=turn)
            expert.open_chat_count += 1
            expert.last_assigned_at = START + timedelta(days=1)
            pairs.append((conversation.pk, expert.pk))
    return pairs


expert_rows = st.lists(
    st.tuples(
        st.integers(0, 3),  # open chats
        st.integers(1, 3),  # cap
        st.none() | st.integers(0, 5),  # minutes since the last chat
        st.sampled_from(EMAILS),
        st.sets(st.sampled_from(NETWORKS), max_size=2),  # live consoles' networks
    ),
    max_size=6,
)
chat_rows = st.lists(
    st.tuples(st.sampled_from(["", *NETWORKS]), st.sampled_from(EMAILS)), max_size=12
)


def build(expert_specs, chat_specs):
    experts, networks = [], {}
    for pk, (count, cap, minutes, email, consoles) in enumerate(expert_specs, start=1):
        user = get_user_model()(pk=pk, email=email or f"e{pk}@team.test")
        last = None if minutes is None else START + timedelta(minutes=minutes)
        expert = Expert(
            pk=pk,
            user=user,
            open_chat_count=count,
            max_concurrent_chats=cap,
            last_assigned_at=last,
        )
        experts.append(expert)
        networks[pk] = set(consoles)
    waiting = [
        Conversation(pk=pk, visitor=Visitor(email=email), customer_network=network)
        for pk, (network, email) in enumerate(chat_specs, start=1)
    ]
    return waiting, experts, networks


@settings(max_examples=300, deadline=None)
@given(expert_rows, chat_rows)
def test_the_drain_pairs_chats_as_the_rule_says(expert_specs, chat_specs):
    waiting, experts, networks = build(expert_specs, chat_specs)
    pairs = [(c.pk, e.pk) for c, e in _pair_up(waiting, experts, networks).pairs]
    waiting, experts, networks = build(expert_specs, chat_specs)
    assert pairs == rule(waiting, experts, networks)


class Fresh:
    """A queryset's stand-in: new, unpaired rows at every read, as the database gives."""

    def __init__(self, read):
        self.read = read

    def __getitem__(self, index):
        return self.read()[index]

    def __iter__(self):
        return iter(self.read())


@settings(max_examples=500, deadline=None)
@given(expert_rows, chat_rows, st.integers(1, 4))
def test_the_front_of_the_queue_and_of_the_experts_pair_as_all_of_them(
    expert_specs, chat_specs, first
):
    """The drain reads the first chats in line and as many free experts, first in
    turn, and all of them only when those could pair differently."""
    waiting, experts, networks = build(expert_specs, chat_specs)
    expected = rule(waiting, experts, networks)

    def in_turn():
        _waiting, experts, _networks = build(expert_specs, chat_specs)
        free = [e for e in experts if e.open_chat_count < e.max_concurrent_chats]
        return sorted(free, key=turn)

    pairs = _pair_first_in_line(
        Fresh(lambda: build(expert_specs, chat_specs)[0]),
        Fresh(in_turn),
        lambda waiting, experts: networks,
        first=first,
    )
    assert [(c.pk, e.pk) for c, e in pairs] == expected
