"""A happy customer follows the widget's "become an expert" link and finds the
application form filled in with the name and email they gave in the chat; empty
fields are marked one by one; the landing page invites applications."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_widget

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_invited_customer_finds_the_form_filled_in(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir
):
    from community.models import ExpertApplication

    make_expert_account()
    console = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    console.get_by_test_id("shift-toggle").click()

    shopper = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    open_widget(shopper, shop_url)
    shopper.get_by_test_id("topic-input").fill("Which earbuds stay in when running?")
    shopper.get_by_test_id("name-input").fill("Noor Bakker")
    shopper.get_by_test_id("email-input").fill("noor@example.com")
    shopper.get_by_test_id("start-button").click()
    pane = console.get_by_test_id("chat-pane")
    expect(pane).to_have_count(1)
    pane.get_by_test_id("resolve-button").click()
    console.get_by_test_id("resolve-summary").fill("Recommended the Stride Sport.")
    console.get_by_test_id("resolve-confirm").click()
    shopper.get_by_test_id("rating-star-5").click()
    shopper.get_by_test_id("rating-submit").click()
    link = shopper.get_by_test_id("apply-link")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", re.compile(r"/apply/\?invite=."))

    with shopper.context.expect_page() as opened:
        link.click()
    form = opened.value
    form.wait_for_load_state()
    expect(form.get_by_label("Your name")).to_have_value("Noor Bakker")
    expect(form.get_by_label("Email address")).to_have_value("noor@example.com")

    # Nothing else filled in: each empty field says so, next to itself.
    form.get_by_test_id("apply-submit").click()
    for name in ("motivation", "product_areas", "availability"):
        field = form.get_by_test_id(f"apply-field-{name}")
        expect(field).to_contain_text("This field is required.")
    expect(form.get_by_test_id("apply-error")).to_have_count(0)
    expect(form.get_by_label("Your name")).to_have_value("Noor Bakker")  # kept
    form.set_viewport_size({"width": 390, "height": 844})
    form.screenshot(path=screenshot_dir / "apply-errors-phone.png", full_page=True)

    form.get_by_label("Why would you be a great expert?").fill("I run marathons in them.")
    form.get_by_label("Products you know best").fill("Running earbuds")
    form.get_by_label("When could you take shifts?").fill("Weekday evenings")
    form.get_by_test_id("apply-submit").click()
    expect(form.get_by_text("Thank you, Noor Bakker!")).to_be_visible()
    application = ExpertApplication.objects.get()
    assert application.visitor is not None and application.visitor.email == "noor@example.com"


def test_the_landing_page_invites_applications(browser, live_server_url):
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{live_server_url}/")
    apply = page.get_by_test_id("home-apply")
    expect(apply).not_to_contain_text("open soon")
    apply.get_by_role("link", name="Apply now").click()
    expect(page.get_by_test_id("apply-form")).to_be_visible()
