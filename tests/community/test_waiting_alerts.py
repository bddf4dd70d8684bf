"""The "shoppers are waiting" mail: sent by the scheduler's job to experts who asked
for it and could come online, when shoppers have waited too long and fewer experts
are on shift than the running shifts need; once an hour per expert at most."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from chat.models import Conversation, Visitor
from community import services
from community.models import Expert, ShiftSlot
from tests.conftest import run_jobs

SITE = "https://chat.example"


def ticked(page) -> bool:
    return bool(re.search(r'<input type="checkbox" name="waiting_alerts"[^>]* checked', page.text))


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.CHAT_WAITING_ALERT_SECONDS = 120


def shoppers_waiting(count: int, *, for_seconds: int = 300) -> None:
    since = timezone.now() - timedelta(seconds=for_seconds)
    for n in range(count):
        Conversation.objects.create(
            visitor=Visitor.objects.create(name=f"Shopper {n}"),
            topic=f"Question {n}",
            queued_at=since + timedelta(seconds=n),
        )


def shift_now(*, needs: int) -> ShiftSlot:
    now = timezone.now()
    return ShiftSlot.objects.create(
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2), capacity=needs
    )


def opted_in(expert: Expert, language: str = "en") -> Expert:
    services.expert_alerts_set(expert=expert, waiting_alerts=True, language=language)
    return expert


@pytest.fixture
def short_handed(make_expert):
    """Three shoppers waiting five minutes; the shift needs two experts, one is online."""
    shift_now(needs=2)
    make_expert(name="On Duty")
    shoppers_waiting(3)


def test_the_scheduled_job_mails_only_experts_who_asked_and_could_come_online(
    make_expert, short_handed
):
    wanted = opted_in(make_expert(name="Noor Jansen", on_shift=False, connected=False))
    make_expert(name="Not Asked", on_shift=False, connected=False)
    opted_in(make_expert(name="Console Open", on_shift=False, connected=True))
    suspended = opted_in(make_expert(name="Suspended", on_shift=False, connected=False))
    Expert.objects.filter(pk=suspended.pk).update(suspended_at=timezone.now())
    inactive = opted_in(make_expert(name="Left Us", on_shift=False, connected=False))
    inactive.user.is_active = False
    inactive.user.save()

    call_command("scheduler", once=True)
    run_jobs()  # the alert job, then the mail it enqueued

    assert [m.to for m in mail.outbox] == [[wanted.user.email]]
    sent = mail.outbox[0]
    assert sent.subject == "3 shoppers are waiting"
    assert "3 shoppers are waiting" in sent.body
    assert "1 of the 2 experts" in sent.body
    assert f"{SITE}/console/" in sent.body
    assert f"{SITE}/console/notifications/" in sent.body  # how to turn it off


def test_an_expert_is_mailed_at_most_once_an_hour(make_expert, short_handed):
    expert = opted_in(make_expert(on_shift=False, connected=False))

    assert services.waiting_alerts_send() == 1
    assert services.waiting_alerts_send() == 0
    run_jobs()
    assert len(mail.outbox) == 1

    Expert.objects.filter(pk=expert.pk).update(
        waiting_alert_sent_at=timezone.now() - timedelta(minutes=61)
    )
    assert services.waiting_alerts_send() == 1
    run_jobs()
    assert len(mail.outbox) == 2


def test_one_shopper_is_one_shopper(make_expert):
    shift_now(needs=1)
    shoppers_waiting(1)
    opted_in(make_expert(on_shift=False, connected=False))
    services.waiting_alerts_send()
    run_jobs()
    assert mail.outbox[0].subject == "1 shopper is waiting"


@pytest.mark.parametrize(
    "situation",
    ["enough experts online", "nobody waited long", "nobody waiting", "no shift running"],
)
def test_no_mail_when_the_team_is_not_short(make_expert, situation):
    opted_in(make_expert(on_shift=False, connected=False))
    make_expert(name="On Duty")
    if situation != "no shift running":
        shift_now(needs=1 if situation == "enough experts online" else 2)
    if situation == "nobody waited long":
        shoppers_waiting(3, for_seconds=60)
    elif situation != "nobody waiting":
        shoppers_waiting(3)

    assert services.waiting_alerts_send() == 0
    run_jobs()
    assert mail.outbox == []


def test_an_expert_on_shift_whose_console_closed_does_not_count(make_expert, short_handed):
    make_expert(name="Console Closed", on_shift=True, connected=False)
    opted_in(make_expert(on_shift=False, connected=False))
    assert services.waiting_alerts_send() == 1


def test_without_a_site_address_nothing_is_sent(settings, make_expert, short_handed):
    settings.SITE_URL = ""
    opted_in(make_expert(on_shift=False, connected=False))
    assert services.waiting_alerts_send() == 0


def test_the_mail_is_off_until_the_expert_turns_it_on(client, make_expert):
    expert = make_expert(on_shift=False, connected=False)
    assert not expert.waiting_alerts
    client.force_login(expert.user)
    page = client.get("/console/notifications/")
    assert page.status_code == 200
    assert 'name="waiting_alerts"' in page.text and not ticked(page)

    saved = client.post(
        "/console/notifications/", {"waiting_alerts": "on", "language": "nl"}, follow=True
    )
    expert.refresh_from_db()
    assert (expert.waiting_alerts, expert.language) == (True, "nl")
    assert ticked(saved)

    client.post("/console/notifications/", {"language": "nl"})
    expert.refresh_from_db()
    assert not expert.waiting_alerts


def test_a_language_not_offered_is_refused_and_changes_nothing(client, make_expert):
    expert = make_expert(on_shift=False, connected=False)
    client.force_login(expert.user)
    refused = client.post("/console/notifications/", {"waiting_alerts": "on", "language": "xx"})
    assert refused.status_code == 400
    expert.refresh_from_db()
    assert (expert.waiting_alerts, expert.language) == (False, "en")


def test_the_mail_is_written_in_the_language_the_expert_chose(make_expert, short_handed):
    """The Dutch catalog is merged separately; the time shows the language is applied."""
    opted_in(make_expert(on_shift=False, connected=False), language="nl")
    services.waiting_alerts_send()
    run_jobs()
    body = mail.outbox[0].body
    assert re.search(r"\b\d{2}:\d{2}\b", body) and "a.m." not in body and "p.m." not in body
