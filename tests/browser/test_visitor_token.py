"""A shopper whose data was erased: the widget's stored token is refused (close code
4410), and the widget forgets it and starts afresh, whether it was open at the time
or comes back later. Real Daphne, database, layer and Chromium."""

import threading

import pytest
from django.db import connections
from playwright.sync_api import expect

from chat import services
from chat.models import Conversation
from tests.browser.helpers import open_widget
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

STORED_TOKEN = "localStorage.getItem('bx.visitor')"


def erase(email: str, staff) -> None:
    """As `erase_customer` does; its own thread, since Playwright's event loop holds this
    one and the erasure broadcasts to the open widget."""

    def run() -> None:
        try:
            services.visitor_erase(email=email, staff_member=staff)
        finally:  # else its connection keeps the test database from being dropped
            connections.close_all()

    eraser = threading.Thread(target=run)
    eraser.start()
    eraser.join()


def start_chat_with_email(page, topic: str, email: str) -> str:
    page.get_by_test_id("topic-input").fill(topic)
    page.get_by_test_id("email-input").fill(email)
    page.get_by_test_id("start-button").click()
    expect(page.get_by_test_id("queue-position")).to_be_visible()
    return page.evaluate(STORED_TOKEN)


def test_an_erased_shoppers_widget_starts_afresh(browser, shop_url, make_expert_account):
    # On shift but not at the console: chats wait in the queue, the widget offers chat.
    make_expert_account(on_shift=True)
    staff = create_staff(username="dpo", email="dpo@example.com")
    context = browser.new_context()
    page = context.new_page()
    open_widget(page, shop_url)
    old_token = start_chat_with_email(page, "Battery drains", "sam@example.com")
    assert old_token
    page.close()

    # Erased while away: the stored token is refused when the shopper comes back.
    erase("sam@example.com", staff)
    page = context.new_page()
    open_widget(page, shop_url)
    expect(page.get_by_test_id("prechat-form")).to_be_visible()
    expect(page.get_by_test_id("reconnecting")).to_be_hidden()
    assert page.evaluate(STORED_TOKEN) is None

    # A new chat is a new visitor with a new token.
    new_token = start_chat_with_email(page, "Other question", "sam@example.com")
    assert new_token and new_token != old_token
    visitors = set(Conversation.objects.values_list("visitor_id", flat=True))
    assert len(visitors) == 2

    # Erased while the widget is open: it is closed, forgets the chat and the token,
    # and is ready for a fresh start at once.
    erase("sam@example.com", staff)
    expect(page.get_by_test_id("prechat-form")).to_be_visible()
    expect(page.get_by_test_id("message-list")).not_to_contain_text("Other question")
    expect(page.get_by_test_id("reconnecting")).to_be_hidden()
    assert page.evaluate(STORED_TOKEN) is None
    context.close()
