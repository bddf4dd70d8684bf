"""Follow-ups in the browser: one that arrives while the customer's widget is open is
still there on the next visit, until the customer dismisses it; the expert's form
refuses a follow-up without real content."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.helpers import log_in, start_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

ANSWER = "I took the Stride Sport on a 20 km run this weekend: they did not move once."


def test_a_follow_up_stays_in_the_widget_until_dismissed(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    from chat.models import Conversation, FollowUp
    from community.models import ConsoleLease

    anna = make_expert_account(on_shift=True)
    ConsoleLease.objects.create(
        expert=anna, channel_name="elsewhere", expires_at=timezone.now() + timedelta(hours=1)
    )
    shopper = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    start_chat(shopper, shop_url, "Which earbuds stay in when running?", "Sam")
    expect(shopper.get_by_test_id("message-list")).to_contain_text("Anna de Vries")
    # Resolved behind the widget's back (broadcasts cannot leave this test's thread).
    chat = Conversation.objects.get()
    Conversation.objects.filter(pk=chat.pk).update(status="resolved", resolved_at=timezone.now())

    expert = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(expert, live_server_url, "anna@shop.test")
    expert.goto(f"{live_server_url}/console/chats/{chat.pk}/")
    expert.get_by_test_id("followup-input").fill("Thanks again!   \u200b\u200b\u200b\u200b")
    expert.get_by_test_id("followup-send").click()
    expect(expert.get_by_test_id("followup-status")).to_contain_text("at least 20 characters")
    expert.get_by_test_id("followup-input").fill(ANSWER)
    expert.get_by_test_id("followup-send").click()
    expect(expert.get_by_test_id("followup-sent")).to_be_visible()

    # The widget is open: the follow-up shows and counts as seen.
    card = shopper.get_by_test_id("followup-card")
    expect(card).to_contain_text("20 km run")
    _wait_until(lambda: FollowUp.objects.filter(seen_at__isnull=False).exists())

    # The next visit still shows it, with nothing unread on the launcher.
    shopper.get_by_test_id("close-button").click()
    shopper.reload()
    expect(shopper.get_by_test_id("launcher")).to_be_visible()
    expect(shopper.get_by_test_id("launcher-badge")).to_be_hidden()
    shopper.get_by_test_id("launcher").click()
    expect(card).to_contain_text("20 km run")
    shopper.screenshot(path=screenshot_dir / "widget-follow-up-phone.png")

    card.get_by_test_id("followup-dismiss").click()
    expect(card).to_have_count(0)
    _wait_until(lambda: FollowUp.objects.filter(dismissed_at__isnull=False).exists())
    shopper.reload()
    expect(shopper.get_by_test_id("end-panel")).to_be_visible()  # the widget is back
    expect(card).to_have_count(0)


def _wait_until(condition) -> None:
    """Until what the widget sent is stored (checked, not timed)."""
    for _ in range(100):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("the widget's frame never took effect")
