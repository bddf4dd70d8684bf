"""A shopper whose network already has the most chats waiting is told, in their own
language, when to try again. Real Daphne, database, cache, layer and Chromium."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from chat.models import Conversation, Visitor
from tests.browser.helpers import open_widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_refused_chat_says_when_to_try_again_in_dutch(
    browser, shop_url, make_expert_account, screenshot_dir
):
    make_expert_account(on_shift=True)
    # The browser reaches Daphne from 127.0.0.1: that network's waiting chats are full.
    for n in range(settings.CHAT_MAX_WAITING_PER_NETWORK):
        Conversation.objects.create(
            visitor=Visitor.objects.create(), topic=f"Script {n}", customer_network="127.0.0.1"
        )

    page = browser.new_context(locale="nl-NL", viewport={"width": 390, "height": 844}).new_page()
    open_widget(page, shop_url)
    page.get_by_test_id("topic-input").fill("Welke oordopjes blijven zitten tijdens het hardlopen?")
    page.get_by_test_id("start-button").click()
    refusal = page.get_by_test_id("prechat-error")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text("Probeer het over 2 minuten opnieuw")
    expect(page.get_by_test_id("start-button")).to_be_enabled()  # they can try again later
    page.screenshot(path=screenshot_dir / "widget-phone-refused-nl.png")
    assert Conversation.objects.count() == settings.CHAT_MAX_WAITING_PER_NETWORK
