"""A suspension in the browser: staff confirm it on a page of its own; the expert's
open console says at once that they are suspended, since when and whom to write to,
with the switch off, and so does every reload."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, log_in
from tests.conftest import create_staff

ZONE = re.compile(r"\bCES?T\b")  # Amsterdam, winter or summer
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_staff_confirm_and_the_expert_is_told_live_and_after_a_reload(
    browser, live_server_url, make_expert_account, screenshot_dir
):
    eva = make_expert_account("eva@shop.test", "Eva Visser")
    create_staff(
        username="lead@shop.test", email="lead@shop.test", password=PASSWORD, first_name="Lars"
    )
    console = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(console, live_server_url, "eva@shop.test")
    console.goto(f"{live_server_url}/console/")
    switch = console.get_by_test_id("shift-toggle")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")

    staff = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(staff, live_server_url, "lead@shop.test")
    staff.goto(f"{live_server_url}/staff/experts/")
    card = staff.get_by_test_id("expert-row").filter(has_text="Eva Visser")
    card.get_by_test_id("suspend-reason").fill("Rude to a customer")
    card.get_by_test_id("suspend-submit").click()
    confirm = staff.get_by_test_id("suspend-confirm")
    expect(confirm).to_contain_text("Suspend Eva Visser?")
    expect(confirm).to_contain_text("Rude to a customer")
    staff.screenshot(path=screenshot_dir / "staff-suspend-confirm.png")
    eva.refresh_from_db()
    assert not eva.is_suspended  # nothing happens before the confirmation

    staff.get_by_test_id("suspend-cancel").click()
    expect(staff.get_by_test_id("expert-row").first).to_be_visible()
    card.get_by_test_id("suspend-reason").fill("Rude to a customer")
    card.get_by_test_id("suspend-submit").click()
    staff.get_by_test_id("suspend-confirm-submit").click()
    expect(card.get_by_test_id("expert-status")).to_have_attribute("data-status", "suspended")

    fatal = console.get_by_test_id("fatal-banner")
    expect(fatal).to_contain_text("Your expert account is suspended since")
    expect(fatal).to_contain_text(ZONE)
    expect(console.get_by_test_id("suspended-contact")).to_have_attribute(
        "href", "mailto:lead@shop.test"
    )
    expect(fatal.get_by_role("link", name="Log in")).to_be_hidden()
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(switch).not_to_contain_text("On shift")
    console.screenshot(path=screenshot_dir / "console-suspended-live.png")

    console.reload()
    page = console.get_by_test_id("suspended")
    expect(page).to_contain_text("Your expert account is suspended")
    expect(page.get_by_test_id("suspended-since")).to_contain_text(ZONE)
    expect(page.get_by_role("link", name="lead@shop.test")).to_have_attribute(
        "href", "mailto:lead@shop.test"
    )
    console.screenshot(path=screenshot_dir / "console-suspended.png")
