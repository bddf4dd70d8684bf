"""A new expert's first visit: the invitation link, choosing a password, the console."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.conftest import create_staff, run_jobs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_an_invited_expert_sets_a_password_and_finds_the_console(
    browser, live_server_url, screenshot_dir, settings
):
    from community import services

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    staff = create_staff(username="lead")
    application = services.application_submit(
        name="Noor Pieters",
        email="noor@example.com",
        motivation="I have owned every Northwind headphone since 2019 and love helping.",
        product_areas="Headphones",
        availability="Weekday evenings",
    )
    services.application_accept(
        application_id=application.pk, staff_member=staff, site_url=live_server_url
    )
    run_jobs()
    link = re.search(r"(http://\S+/accounts/password/reset/key/\S+)", mail.outbox[-1].body)[1]

    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(link)
    # Before: allauth's "Change Password" with a Cancel that looked like the submit
    # button and logged the new expert out, and no way on to the console.
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your password")
    expect(page.get_by_test_id("password-form").get_by_role("button")).to_have_count(1)
    page.get_by_test_id("password1").fill("noor-loves-headphones")
    page.get_by_test_id("password2").fill("noor-loves-headphones")
    page.screenshot(path=screenshot_dir / "invite-password-phone.png", full_page=True)
    page.get_by_test_id("password-submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your password is saved")
    page.get_by_test_id("to-console").click()
    page.get_by_test_id("login-email").fill("noor@example.com")
    page.get_by_test_id("login-password").fill("noor-loves-headphones")
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.get_by_test_id("shift-toggle")).to_be_visible()
    page.context.close()  # its console would keep writing while the database is reset
