"""Two workers running the waiting-alert job at the same moment send each expert
one mail: real parallel transactions on PostgreSQL."""

import pytest
from django.core import mail
from django.db import connection

from community import services
from tests.chat.test_concurrency import run_in_parallel
from tests.community.test_waiting_alerts import opted_in, shift_now, shoppers_waiting
from tests.conftest import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.fail("concurrency tests need PostgreSQL (set DATABASE_URL)")


def test_jobs_running_at_once_mail_each_expert_once(settings, make_expert):
    settings.SITE_URL = "https://chat.example"
    shift_now(needs=3)
    shoppers_waiting(4)
    experts = [opted_in(make_expert(on_shift=False, connected=False)) for _ in range(3)]

    sent = run_in_parallel([services.waiting_alerts_send for _ in range(8)])
    run_jobs()

    assert sum(sent) == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(e.user.email for e in experts)
