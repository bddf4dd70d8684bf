"""Staff in the browser: a whisper reaches the expert and never the customer; the
metrics dashboard renders its charts."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, log_in, send_from_widget, start_chat
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_whisper_reaches_the_expert_not_the_customer(
    browser, live_server_url, shop_url, django_user_model, screenshot_dir
):
    from community.models import Expert

    user = django_user_model.objects.create_user(
        username="anna@shop.test", email="anna@shop.test", password=PASSWORD
    )
    Expert.objects.create(user=user, display_name="Anna de Vries")
    create_staff(
        username="lead@shop.test", email="lead@shop.test", password=PASSWORD, first_name="Lars"
    )

    console = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    console.get_by_test_id("shift-toggle").click()

    shopper = browser.new_context().new_page()
    start_chat(shopper, shop_url, "Does the Voyager fold flat?", "Sam")
    send_from_widget(shopper, "For travel, I mean.")
    expect(console.get_by_test_id("chat-pane")).to_have_count(1)

    monitor = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(monitor, live_server_url, "lead@shop.test")
    monitor.goto(f"{live_server_url}/staff/monitor/")
    chat = monitor.get_by_test_id("monitor-chat").filter(has_text="Does the Voyager fold flat?")
    chat.click()
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


def test_metrics_dashboard_with_demo_data(browser, live_server_url, screenshot_dir):
    from django.core.management import call_command

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(page, live_server_url, "staff@demo.test", "staff-demo-2026")
    page.goto(f"{live_server_url}/staff/metrics/")
    expect(page.get_by_test_id("chart-chats").locator("svg rect").first).to_be_attached()
    expect(page.get_by_test_id("metric-chats")).not_to_contain_text(" 0\n")
    page.screenshot(path=screenshot_dir / "staff-metrics.png", full_page=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(phone, live_server_url, "staff@demo.test", "staff-demo-2026")
    phone.goto(f"{live_server_url}/staff/metrics/")
    phone.screenshot(path=screenshot_dir / "staff-metrics-phone.png", full_page=True)
