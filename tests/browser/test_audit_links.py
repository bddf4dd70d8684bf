"""The audit log's subjects are links staff can follow: a chat opens in the live
monitor, even one that has ended."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, log_in
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_chat_in_the_audit_log_opens_in_the_monitor(browser, live_server_url):
    from chat.models import Conversation, Message, Visitor
    from community.audit import audit_record

    lead = create_staff(username="lead@shop.test", email="lead@shop.test", password=PASSWORD)
    chat = Conversation.objects.create(
        visitor=Visitor.objects.create(name="Sam"),
        topic="Does the Voyager fold flat?",
        status=Conversation.Status.ABANDONED,
        last_seq=1,
    )
    Message.objects.create(conversation=chat, seq=1, sender="customer", body="For travel, I mean.")
    audit_record(actor=lead, action="close_chat", subject=chat, reason="Spam")

    page = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(page, live_server_url, "lead@shop.test")
    page.goto(f"{live_server_url}/staff/audit/")
    row = page.get_by_test_id("audit-row").first
    expect(row.get_by_test_id("audit-action")).to_have_text("Closed a chat")
    row.get_by_role("link", name=f"Chat #{chat.pk}: Does the Voyager fold flat?").click()
    expect(page).to_have_url(f"{live_server_url}/staff/monitor/#chat-{chat.pk}")
    view = page.get_by_test_id("chat-view")
    expect(view).to_be_visible()
    expect(view.get_by_test_id("chat-view-messages")).to_contain_text("For travel, I mean.")
