"""The pages of the demo brand that show history, times, the audit log, suspension,
follow-ups and applying, in English and Dutch, on a desktop (1366x850) and a phone
(390x844): nothing runs off the side, and a screenshot of each is kept
(SCREENSHOT_DIR; docs/screenshots holds the ones looked at)."""

import threading

import pytest
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import expect

from tests.browser.helpers import log_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SIZES = {"desktop": {"width": 1366, "height": 850}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "nl")
EXPERT = ("eva@demo.test", "expert-demo-2026")
STAFF = ("staff@demo.test", "staff-demo-2026")


@pytest.fixture
def demo():
    """The demo brand, loaded in a thread of its own (its broadcasts need one without
    Playwright's event loop)."""

    def load():
        try:
            call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        finally:
            connections.close_all()

    loader = threading.Thread(target=load)
    loader.start()
    loader.join()


def page_for(browser, base_url, size, language, login=None):
    context = browser.new_context(
        viewport=SIZES[size], locale="nl-NL" if language == "nl" else "en-GB"
    )
    host = base_url.split("//")[1].split(":")[0]
    context.add_cookies(
        [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
    )
    page = context.new_page()
    if login:
        log_in(page, base_url, *login)
    return page


def shoot(page, screenshot_dir, name, size, language, *, full_page=False):
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} runs {overflow}px off the side ({size}, {language})"
    page.screenshot(path=screenshot_dir / f"{name}-{size}-{language}.png", full_page=full_page)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", SIZES)
def test_expert_and_staff_pages(browser, live_server_url, demo, size, language, screenshot_dir):
    expert = page_for(browser, live_server_url, size, language, login=EXPERT)
    expert.goto(f"{live_server_url}/console/points/")
    expect(expert.get_by_test_id("ledger-entry").first).to_be_visible()
    shoot(expert, screenshot_dir, "points-statement", size, language)
    expert.goto(f"{live_server_url}/console/")
    expect(expert.get_by_test_id("leaderboard-me").first).to_be_visible()
    shoot(expert, screenshot_dir, "console-week", size, language)
    # Before: "Aller tijden" stuck out of the leaderboard's tab bar.
    tabs_fit = expert.evaluate(
        """() => [...document.querySelectorAll('.lb__tabs')].every((bar) => {
            const edge = bar.getBoundingClientRect().right + 0.5;
            return [...bar.children].every((tab) => tab.getBoundingClientRect().right <= edge
                && tab.scrollWidth <= tab.clientWidth + 1);
        })"""
    )
    assert tabs_fit
    expert.goto(f"{live_server_url}/console/replies/")
    shoot(expert, screenshot_dir, "saved-replies", size, language)

    staff = page_for(browser, live_server_url, size, language, login=STAFF)
    staff.goto(f"{live_server_url}/staff/audit/")
    expect(staff.get_by_test_id("audit-row").first).to_be_visible()
    # Every staff page's tab is in view at every size, phones too: none behind a scroll.
    clipped = staff.evaluate(
        """() => {
            const track = document.querySelector('.subnav__track').getBoundingClientRect();
            return [...document.querySelectorAll('.subnav__link')]
                .filter((a) => a.getBoundingClientRect().left < track.left - 0.5
                    || a.getBoundingClientRect().right > track.right + 0.5)
                .map((a) => a.textContent.trim());
        }"""
    )
    assert clipped == []
    shoot(staff, screenshot_dir, "staff-audit", size, language)
    staff.goto(f"{live_server_url}/console/shifts/")
    expect(staff.get_by_test_id("shift-row").first).to_be_visible()
    shoot(staff, screenshot_dir, "shifts", size, language)

    staff.goto(f"{live_server_url}/staff/experts/")
    card = staff.get_by_test_id("expert-row").filter(has_text="Finn Mulder")
    card.get_by_test_id("suspend-reason").fill(
        "Shared a customer's order details" if language == "en" else "Bestelgegevens gedeeld"
    )
    card.get_by_test_id("suspend-submit").click()
    expect(staff.get_by_test_id("suspend-confirm")).to_be_visible()
    shoot(staff, screenshot_dir, "staff-suspend-confirm", size, language)
    staff.get_by_test_id("suspend-confirm-submit").click()
    expect(card.get_by_test_id("expert-status")).to_have_attribute("data-status", "suspended")
    card.scroll_into_view_if_needed()
    shoot(staff, screenshot_dir, "staff-experts-suspended", size, language)

    finn = page_for(browser, live_server_url, size, language, login=("finn@demo.test", EXPERT[1]))
    finn.goto(f"{live_server_url}/console/")
    expect(finn.get_by_test_id("suspended")).to_be_visible()
    shoot(finn, screenshot_dir, "console-suspended", size, language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", SIZES)
def test_public_pages_and_the_offline_widget(
    browser, live_server_url, shop_url, demo, size, language, screenshot_dir
):
    page = page_for(browser, live_server_url, size, language)
    page.goto(f"{live_server_url}/")
    shoot(page, screenshot_dir, "home", size, language, full_page=True)
    page.goto(f"{live_server_url}/apply/")
    page.get_by_test_id("apply-submit").click()
    expect(page.locator(".field--invalid").first).to_be_visible()
    shoot(page, screenshot_dir, "apply-errors", size, language, full_page=True)

    shop = page_for(browser, live_server_url, size, language)
    shop.goto(shop_url)
    shop.get_by_test_id("launcher").click()
    expect(shop.get_by_test_id("offline-next")).not_to_be_empty()
    shop.screenshot(path=screenshot_dir / f"widget-offline-{size}-{language}.png")
