"""An expert never gets a chat they started themselves to farm points: not from
their own network, not under their own account email."""

import pytest

from chat import services
from chat.models import Conversation
from community import services as community_services

pytestmark = pytest.mark.django_db

HOME = "203.0.113.66"


@pytest.fixture(autouse=True)
def _same_network_checks(settings):
    settings.SAME_NETWORK_CHECKS = True  # on in production (off with DEBUG, for demos)


def online(make_expert, name: str, network: str):
    expert = make_expert(name=name, connected=False)
    community_services.expert_console_connected(
        expert=expert, channel_name=f"console-{name}", network=network
    )
    return expert


def test_a_chat_from_the_experts_own_network_goes_to_someone_else(make_expert, make_visitor):
    """Before: an expert on shift opened the widget themselves and got their own chat."""
    eva = online(make_expert, "Eva", HOME)
    own = services.conversation_start(visitor=make_visitor(), topic="Me", network=HOME)
    assert own.status == Conversation.Status.WAITING  # Eva is the only one on shift

    # A real customer behind it is not held up by it.
    real = services.conversation_start(
        visitor=make_visitor(), topic="Real question", network="198.51.100.7"
    )
    assert real.expert_id == eva.pk

    bo = online(make_expert, "Bo", "192.0.2.10")
    community_services.expert_shift_start(expert=bo)
    own.refresh_from_db()
    assert own.expert_id == bo.pk


def test_a_chat_under_the_experts_account_email_never_reaches_them(make_expert, make_visitor):
    eva = online(make_expert, "Eva", "192.0.2.20")
    chat = services.conversation_start(
        visitor=make_visitor(),
        topic="Me again",
        email=eva.user.email.upper(),
        network="198.51.100.9",
    )
    assert chat.status == Conversation.Status.WAITING


def test_an_expert_first_in_turn_but_on_the_chats_network_is_passed_over(make_expert, make_visitor):
    """A drain reads only as many free experts as there are chats, first in turn;
    when one of them is passed over it must still find the others."""
    eva = online(make_expert, "Eva", HOME)  # never assigned, lowest id: first in turn
    bo = online(make_expert, "Bo", "192.0.2.10")
    own = services.conversation_start(visitor=make_visitor(), topic="Me", network=HOME)
    assert own.expert_id == bo.pk
    real = services.conversation_start(visitor=make_visitor(), topic="Q", network="198.51.100.7")
    assert real.expert_id == eva.pk
