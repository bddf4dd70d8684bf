"""The scheduler and the worker heal a quiet system: nobody needs to ping for it."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from chat import services
from chat.models import Conversation
from community import services as community_services
from community.models import ConsoleLease, Expert
from tests.conftest import run_jobs

pytestmark = pytest.mark.django_db


def test_one_round_heals_dead_consoles_absent_experts_and_gone_customers(
    make_expert, make_visitor, settings
):
    settings.CHAT_DISCONNECT_GRACE_SECONDS = 60
    expert = make_expert(connected=False)
    community_services.expert_console_connected(expert=expert, channel_name="killed!1")
    active = services.conversation_start(visitor=make_visitor(), topic="Hinge", network="a")
    ConsoleLease.objects.update(expires_at=timezone.now() - timedelta(seconds=90))
    Expert.objects.update(last_seen_at=timezone.now() - timedelta(seconds=90))
    waiting = services.conversation_start(visitor=make_visitor(), topic="Gone", network="b")
    Conversation.objects.filter(pk=waiting.pk).update(
        customer_seen_at=timezone.now() - timedelta(seconds=300)
    )

    call_command("scheduler", "--once")
    run_jobs()

    assert not ConsoleLease.objects.exists()
    assert Conversation.objects.get(pk=active.pk).status == "waiting"  # back in the queue
    assert Conversation.objects.get(pk=waiting.pk).status == "abandoned"
