"""Staff in the browser: a whisper reaches the expert and never the customer; hiding
a message, taking a chat over and closing it ask first in the monitor's dialog; the
metrics dashboard renders its charts."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, log_in, send_from_widget, start_chat
from tests.browser.test_photos import snapshot
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_whisper_reaches_the_expert_not_the_customer(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    console, shopper = _live_chat(
        browser,
        live_server_url,
        shop_url,
        make_expert_account,
        "Does the Voyager fold flat?",
        "For travel, I mean.",
    )

    monitor = _open_in_monitor(
        browser, live_server_url, "Does the Voyager fold flat?", {"width": 1440, "height": 900}
    )
    expect(monitor.get_by_test_id("chat-view-messages")).to_contain_text("For travel")
    monitor.get_by_test_id("whisper-input").fill("Mention the travel case, it ships free.")
    monitor.get_by_test_id("whisper-send").click()

    expect(console.get_by_test_id("pane-messages")).to_contain_text("travel case")
    # The customer keeps chatting and never sees it.
    send_from_widget(shopper, "Thanks!")
    expect(console.get_by_test_id("pane-messages")).to_contain_text("Thanks!")
    expect(shopper.get_by_test_id("message-list")).not_to_contain_text("travel case")
    shopper.reload()
    shopper.get_by_test_id("launcher").click()
    expect(shopper.get_by_test_id("message-list")).to_contain_text("Thanks!")
    expect(shopper.get_by_test_id("message-list")).not_to_contain_text("travel case")
    monitor.screenshot(path=screenshot_dir / "staff-monitor.png")
    console.screenshot(path=screenshot_dir / "console-whisper.png")


def _live_chat(browser, live_server_url, shop_url, make_expert_account, topic, *lines):
    """Anna on shift with a customer's chat that says `lines`; staff member Lars."""
    make_expert_account()
    create_staff(
        username="lead@shop.test", email="lead@shop.test", password=PASSWORD, first_name="Lars"
    )
    console = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    console.get_by_test_id("shift-toggle").click()
    shopper = browser.new_context().new_page()
    start_chat(shopper, shop_url, topic, "Sam")
    for line in lines:
        send_from_widget(shopper, line)
    expect(console.get_by_test_id("chat-pane")).to_have_count(1)
    return console, shopper


def _open_in_monitor(browser, live_server_url, topic, viewport):
    monitor = browser.new_context(viewport=viewport).new_page()
    log_in(monitor, live_server_url, "lead@shop.test")
    monitor.goto(f"{live_server_url}/staff/monitor/")
    monitor.get_by_test_id("monitor-chat").filter(has_text=topic).click()
    expect(monitor.get_by_test_id("chat-view")).to_be_visible()
    return monitor


def test_staff_hide_a_message_through_the_dialog(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    from chat.models import Message

    topic = "Can I return the Voyager?"
    line = "Call me on 06 1234 5678, I bought it last week."
    console, shopper = _live_chat(
        browser, live_server_url, shop_url, make_expert_account, topic, line
    )
    monitor = _open_in_monitor(browser, live_server_url, topic, {"width": 1440, "height": 900})
    message = monitor.get_by_test_id("message").filter(has_text="06 1234 5678")
    dialog = monitor.get_by_test_id("action-dialog")
    reason = dialog.get_by_test_id("dialog-input")
    expect(dialog).to_be_hidden()

    message.hover()
    message.get_by_test_id("hide-message").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Hide this message?")
    expect(dialog.get_by_test_id("dialog-quote")).to_have_text(line)
    expect(reason).to_be_focused()
    expect(dialog.get_by_role("textbox", name="Why hide this message?")).to_be_visible()
    # An empty (or blank) reason is refused inside the dialog, which stays open.
    reason.fill("   ")
    dialog.get_by_role("button", name="Hide message").click()
    expect(dialog.get_by_test_id("dialog-error")).to_have_text("Give a reason, or cancel.")
    expect(dialog).to_be_visible()
    expect(reason).to_have_attribute("aria-invalid", "true")
    reason.fill("Personal phone number")
    expect(dialog.get_by_test_id("dialog-error")).to_be_hidden()
    monitor.screenshot(path=screenshot_dir / "staff-dialog-hide.png", animations="disabled")

    # Cancel sends nothing.
    dialog.get_by_test_id("dialog-cancel").click()
    expect(dialog).to_be_hidden()
    expect(monitor.get_by_test_id("chat-view")).to_be_visible()
    expect(message).to_have_attribute("data-hidden", "false")
    assert not Message.objects.filter(body=line, hidden_at__isnull=False).exists()

    # Open again: a fresh, empty dialog. Confirm hides it for the customer.
    message.hover()
    message.get_by_test_id("hide-message").click()
    expect(reason).to_have_value("")
    expect(dialog.get_by_test_id("dialog-error")).to_be_hidden()
    reason.fill("Personal phone number")
    dialog.get_by_role("button", name="Hide message").click()
    expect(dialog).to_be_hidden()
    expect(message).to_have_attribute("data-hidden", "true")
    expect(message).to_contain_text("Hidden by staff")
    expect(monitor.get_by_test_id("chat-view-error")).to_be_hidden()
    hidden = Message.objects.get(body=line)
    assert hidden.hidden_reason == "Personal phone number"
    # Neither side loses track of it: the customer sees a placeholder where it was,
    # the expert still reads it, marked; a reload shows the same.
    removed = shopper.get_by_test_id("message-removed")
    expect(removed).to_have_text("Removed by the moderators")
    expect(shopper.get_by_test_id("message-list")).not_to_contain_text("06 1234 5678")
    marked = console.get_by_test_id("message").filter(has_text="06 1234 5678")
    expect(marked.get_by_test_id("message-removed")).to_be_visible()
    shopper.screenshot(path=screenshot_dir / "widget-message-removed.png")
    console.screenshot(path=screenshot_dir / "console-message-removed.png")
    shopper.reload()
    shopper.get_by_test_id("launcher").click()
    expect(shopper.get_by_test_id("message-removed")).to_have_text("Removed by the moderators")


def test_staff_take_over_and_close_a_chat_through_the_dialog_on_a_phone(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir, tmp_path
):
    from chat.models import Conversation, Message
    from community.models import AuditEntry

    topic = "Which size for a 10-year-old?"
    console, shopper = _live_chat(
        browser, live_server_url, shop_url, make_expert_account, topic, "She is 1.40 m."
    )
    monitor = _open_in_monitor(browser, live_server_url, topic, {"width": 390, "height": 844})
    dialog = monitor.get_by_test_id("action-dialog")
    conversation = Conversation.objects.get(topic=topic)

    monitor.get_by_test_id("take-over").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Take over this chat?")
    expect(dialog.get_by_test_id("dialog-input")).to_be_hidden()
    expect(dialog.get_by_test_id("dialog-quote")).to_be_hidden()
    confirm = dialog.get_by_role("button", name="Take over chat")
    expect(confirm).to_be_focused()
    monitor.screenshot(
        path=screenshot_dir / "staff-dialog-take-over-phone.png", animations="disabled"
    )
    # Esc cancels the dialog only: the chat view stays, nothing is sent.
    monitor.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(monitor.get_by_test_id("chat-view")).to_be_visible()
    expect(monitor.get_by_test_id("take-over")).to_be_enabled()
    conversation.refresh_from_db()
    assert conversation.staff_member_id is None and conversation.expert_id is not None
    expect(console.get_by_test_id("chat-pane")).to_have_count(1)

    monitor.get_by_test_id("take-over").click()
    confirm.dblclick()
    expect(dialog).to_be_hidden()
    expect(monitor.get_by_test_id("reply-input")).to_be_visible()
    expect(monitor.get_by_test_id("chat-view-status")).to_have_text("Staff")
    expect(console.get_by_test_id("chat-pane")).to_have_count(0)
    expect(shopper.get_by_test_id("message-list")).to_contain_text("from our team has taken over")
    # The widget names who answers now, not "Ask a brand expert".
    expect(shopper.get_by_test_id("panel-title")).to_have_text("Lars")
    assert AuditEntry.objects.filter(action="take_over").count() == 1
    assert Message.objects.filter(conversation=conversation, system_event="taken_over").count() == 1

    # Lars sends the size chart as a photo, as the expert could have.
    chart = tmp_path / "size-chart.png"
    snapshot((900, 600), "#f3efe6", "#5a6b7d").save(chart)
    expect(monitor.get_by_test_id("attach-button")).to_be_visible()
    # Straight into the file input: the button is under the take-over toast for 4 s.
    monitor.get_by_test_id("attach-input").set_input_files(chart)
    expect(monitor.get_by_test_id("chat-view-messages").get_by_test_id("photo")).to_have_count(1)
    expect(monitor.get_by_test_id("photo-sending")).to_have_count(0)
    expect(shopper.get_by_test_id("photo")).to_have_count(1)
    monitor.wait_for_function("() => document.querySelector('.msg__photo img').naturalWidth > 0")
    monitor.evaluate("getSelection().removeAllRanges()")  # what the double click selected
    shot = {"animations": "disabled"}
    monitor.screenshot(path=screenshot_dir / "staff-take-over-photo-phone.png", **shot)
    monitor.set_viewport_size({"width": 1366, "height": 850})
    monitor.screenshot(path=screenshot_dir / "staff-take-over-photo-desktop.png", **shot)
    monitor.set_viewport_size({"width": 390, "height": 844})

    monitor.get_by_test_id("close-chat").click()
    expect(dialog.get_by_role("heading")).to_have_text("Close this chat?")
    summary = dialog.get_by_role("textbox", name="Summary for the record")
    expect(summary).to_be_focused()
    dialog.get_by_role("button", name="Close chat").click()
    expect(dialog.get_by_test_id("dialog-error")).to_have_text("Write a short summary first.")
    expect(dialog).to_be_visible()
    monitor.screenshot(path=screenshot_dir / "staff-dialog-close-phone.png", animations="disabled")
    summary.fill("Sizing question; recommended the junior size.")
    dialog.get_by_test_id("dialog-cancel").click()
    expect(dialog).to_be_hidden()
    expect(monitor.get_by_test_id("close-chat")).to_be_visible()
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.ACTIVE

    monitor.get_by_test_id("close-chat").click()
    expect(summary).to_have_value("")
    summary.fill("Sizing question; recommended the junior size.")
    dialog.get_by_role("button", name="Close chat").click()
    expect(dialog).to_be_hidden()
    expect(monitor.get_by_test_id("chat-view-note")).to_have_text("This chat has ended.")
    expect(monitor.get_by_test_id("close-chat")).to_be_hidden()
    expect(shopper.get_by_test_id("message-list")).to_contain_text("Our team closed this chat.")
    # A chat staff closed can be rated like any other (no points: no expert answered).
    expect(shopper.get_by_test_id("rating")).to_be_visible()
    shopper.get_by_test_id("rating-star-5").click()
    shopper.get_by_test_id("rating-submit").click()
    expect(shopper.get_by_test_id("rating-thanks")).to_be_visible()
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED
    assert conversation.resolution_summary == "Sizing question; recommended the junior size."
    assert AuditEntry.objects.filter(action="close_chat").count() == 1


def test_metrics_dashboard_with_demo_data(browser, live_server_url, screenshot_dir):
    from django.core.management import call_command

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(page, live_server_url, "staff@demo.test", "staff-demo-2026")
    page.goto(f"{live_server_url}/staff/metrics/")
    expect(page.get_by_test_id("chart-chats").locator("svg rect").first).to_be_attached()
    expect(page.get_by_test_id("metric-chats").locator(".stat__value")).not_to_have_text("0")
    expect(page.get_by_test_id("metric-abandoned")).to_contain_text("left the queue")
    page.screenshot(path=screenshot_dir / "staff-metrics.png", full_page=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(phone, live_server_url, "staff@demo.test", "staff-demo-2026")
    phone.goto(f"{live_server_url}/staff/metrics/")
    phone.screenshot(path=screenshot_dir / "staff-metrics-phone.png", full_page=True)


@pytest.mark.parametrize("width", [1366, 390])
def test_staff_publish_a_shift_in_styled_fields_and_keep_what_they_typed(
    browser, live_server_url, screenshot_dir, width
):
    """Before: expert copy ("Sign up for the shifts you can take"), bare browser date inputs."""
    create_staff(username="staff@shop.test", email="staff@shop.test", password=PASSWORD)
    page = browser.new_context(viewport={"width": width, "height": 850}).new_page()
    log_in(page, live_server_url, "staff@shop.test")
    page.goto(f"{live_server_url}/console/shifts/")
    expect(page.locator(".page-head")).to_contain_text("Publish the shifts the team needs")
    expect(page.locator(".page-head")).not_to_contain_text("you can take")

    def look(selector):
        return page.locator(selector).evaluate(
            "el => { const s = getComputedStyle(el);"
            " return [s.borderTopLeftRadius, s.paddingLeft, s.borderTopColor, s.height]; }"
        )

    assert look("#shift-start") == look("#shift-capacity")  # one look for every field

    # Ends before it starts: refused, and the form keeps what was typed.
    page.fill("#shift-start", "2031-03-02T10:00")
    page.fill("#shift-end", "2031-03-02T09:00")
    page.fill("#shift-capacity", "3")
    page.get_by_test_id("shift-publish-submit").click()
    expect(page.locator(".flash, .banner").first).to_be_visible()
    expect(page.locator("#shift-start")).to_have_value("2031-03-02T10:00")
    expect(page.locator("#shift-capacity")).to_have_value("3")

    page.fill("#shift-end", "2031-03-02T14:00")
    page.get_by_test_id("shift-publish-submit").click()
    expect(page.get_by_test_id("shift-row")).to_have_count(1)
    expect(page.get_by_test_id("shift-when")).to_contain_text("10:00–14:00")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=screenshot_dir / f"staff-shifts-{width}.png", full_page=True)
