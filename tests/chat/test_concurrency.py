"""The three-chat cap and the FIFO queue under real parallel transactions on PostgreSQL."""

import asyncio
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from chat import services
from chat.models import Conversation, Message, Visitor
from community.models import Expert
from config.errors import ServiceError

pytestmark = pytest.mark.django_db(transaction=True)


# PostgreSQL's default max_connections is 100; leave room for the test itself and for
# the other connections a run holds (event-loop pools, a live server).
MAX_CONNECTIONS = 60


def run_in_parallel(calls):
    """Run the calls at once, each worker thread with its own database connection.

    Up to MAX_CONNECTIONS transactions are in flight together; all workers are
    released by one barrier, then take the remaining calls as they finish.
    """
    workers = min(len(calls), MAX_CONNECTIONS)
    barrier = threading.Barrier(workers)
    pending = queue.SimpleQueue()
    for index, call in enumerate(calls):
        pending.put((index, call))
    results = [None] * len(calls)

    def work():
        barrier.wait()
        try:
            while True:
                try:
                    index, call = pending.get_nowait()
                except queue.Empty:
                    return
                results[index] = call()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()
    return results


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.fail("concurrency tests need PostgreSQL (set DATABASE_URL)")


@pytest.fixture(params=["thread", "event loop"])
def start(request):
    """A chat start as the database thread runs it, or as a widget socket does: on
    its own event loop (with its own connections) and the drain after the commit."""
    if request.param == "thread":
        return services.conversation_start

    def on_a_loop(**arguments):
        return asyncio.run(services.conversation_start_live(**arguments))

    return on_a_loop


def test_fifty_concurrent_starts_against_two_experts(make_expert, start):
    experts = [make_expert(name="A"), make_expert(name="B")]
    visitors = [Visitor.objects.create(name=f"v{n}") for n in range(50)]

    started = run_in_parallel(
        [lambda v=v: start(visitor=v, topic=f"from {v.name}") for v in visitors]
    )

    assert len({c.pk for c in started}) == 50  # none lost, none doubled
    for expert in experts:
        expert.refresh_from_db()
        active = Conversation.objects.filter(expert=expert, status="active").count()
        assert active == expert.open_chat_count == 3
    queue = list(Conversation.objects.order_by("queued_at", "pk"))
    # The six served are exactly the six that arrived first; the rest wait in order.
    assert [c.status for c in queue] == ["active"] * 6 + ["waiting"] * 44
    assert Message.objects.filter(sender="customer").count() == 50


def test_concurrent_resolves_and_starts_never_exceed_the_cap(make_expert, start):
    expert = make_expert()
    first = [
        services.conversation_start(visitor=Visitor.objects.create(), topic="q") for _ in range(3)
    ]
    newcomers = [Visitor.objects.create() for _ in range(20)]

    calls = [
        lambda c=c: services.conversation_resolve(
            conversation_id=c.pk, expert=expert, summary="done"
        )
        for c in first
    ]
    calls += [lambda v=v: start(visitor=v, topic="new") for v in newcomers]
    run_in_parallel(calls)

    expert.refresh_from_db()
    assert expert.open_chat_count == 3
    assert Conversation.objects.filter(expert=expert, status="active").count() == 3
    assert Conversation.objects.filter(status="waiting").count() == 17
    assert not Expert.objects.filter(open_chat_count__gt=3).exists()


def test_concurrent_sends_get_consecutive_sequence_numbers(make_expert):
    expert = make_expert()
    chat = services.conversation_start(visitor=Visitor.objects.create(), topic="q")
    calls = [
        lambda n=n: services.message_post(
            conversation_id=chat.pk, expert=expert, body=f"m{n}", client_id=f"c{n}"
        )
        for n in range(30)
    ]
    # The same client_id sent twice at once (a double click) is stored once.
    calls += [
        lambda: services.message_post(
            conversation_id=chat.pk, visitor=chat.visitor, body="dup", client_id="twice"
        )
        for _ in range(2)
    ]
    run_in_parallel(calls)
    seqs = list(Message.objects.filter(conversation=chat).values_list("seq", flat=True))
    assert seqs == list(range(1, 2 + 30 + 1 + 1))
    assert Message.objects.filter(conversation=chat, body="dup").count() == 1


def test_a_visitor_starting_ten_times_at_once_gets_one_chat(make_expert, start):
    """Starts are no longer serialised by the routing lock as a whole: the visitor's
    own row lock keeps double clicks to one chat."""
    make_expert()
    visitor = Visitor.objects.create()

    started = run_in_parallel([lambda: start(visitor=visitor, topic="hi") for _ in range(10)])

    assert len({c.pk for c in started}) == 1
    assert Conversation.objects.filter(visitor=visitor).count() == 1
    assert Message.objects.filter(sender="customer").count() == 1


def test_one_network_cannot_queue_more_than_its_cap_even_all_at_once(settings, start):
    settings.CHAT_MAX_WAITING_PER_NETWORK = 3
    visitors = [Visitor.objects.create() for _ in range(12)]

    outcomes = run_in_parallel(
        [
            lambda v=v: _outcome(lambda: start(visitor=v, topic="q", network="203.0.113.9"))
            for v in visitors
        ]
    )

    assert outcomes.count("started") == 3 and outcomes.count("rate_limited") == 9
    assert Conversation.objects.filter(status="waiting").count() == 3


def _outcome(call) -> str:
    try:
        call()
    except ServiceError as error:
        return error.code
    return "started"


def test_a_burst_of_starts_is_assigned_first_come_first_served_and_within_the_cap(
    make_expert, start
):
    """Forty customers at once, five experts: the fifteen served are the fifteen
    queued first, each expert has three, the rest wait in order."""
    experts = [make_expert(name=f"E{n}") for n in range(5)]
    visitors = [Visitor.objects.create(name=f"v{n}") for n in range(40)]

    run_in_parallel([lambda v=v: start(visitor=v, topic="q") for v in visitors])

    queue = list(Conversation.objects.order_by("queued_at", "pk"))
    assert [c.status for c in queue] == ["active"] * 15 + ["waiting"] * 25
    for expert in experts:
        expert.refresh_from_db()
        assert expert.open_chat_count == 3
        assert Conversation.objects.filter(expert=expert, status="active").count() == 3
    # Every assigned chat says who joined, right after the customer's first message.
    for chat in queue[:15]:
        lines = list(chat.messages.order_by("seq").values_list("seq", "system_event"))
        assert lines[:2] == [(1, ""), (2, "joined")]
