"""axe-core on the pages people use, in English and Dutch: no serious or critical
violations (axe-core itself comes with the axe-playwright-python dev dependency)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_widget
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

EXPERT_PAGES = [
    "/console/",
    "/console/points/",
    "/console/shop/",
    "/console/shifts/",
    "/console/replies/",
    "/console/notifications/",
]
STAFF_PAGES = [
    "/staff/",
    "/staff/monitor/",
    "/staff/experts/",
    "/staff/applications/",
    "/staff/redemptions/",
    "/staff/metrics/",
    "/staff/audit/",
]


def serious(page) -> list[str]:
    """Each serious or critical violation, with where and why, to read in the failure."""
    found = []
    for violation in Axe().run(page).response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            where = "; ".join(
                f"{node['target']} {node.get('failureSummary', '')[-120:]}"
                for node in violation["nodes"]
            )
            found.append(f"{page.url} {violation['id']}: {violation['help']}: {where}")
    return found


@pytest.mark.parametrize("language", ["en", "nl"])
def test_no_serious_accessibility_violations(
    browser, live_server_url, shop_url, make_expert_account, language
):
    make_expert_account()
    create_staff(username="lead@shop.test", email="lead@shop.test", password="pw-123456")
    found = []
    context = browser.new_context(locale=language)
    page = context.new_page()
    page.goto(f"{live_server_url}/accounts/login/")
    found += serious(page)
    log_in(page, live_server_url, "anna@shop.test")
    for path in EXPERT_PAGES:
        page.goto(f"{live_server_url}{path}")
        found += serious(page)
    staff = browser.new_context(locale=language).new_page()
    log_in(staff, live_server_url, "lead@shop.test")
    for path in STAFF_PAGES:
        staff.goto(f"{live_server_url}{path}")
        found += serious(staff)
    # axe reads colours as drawn: mid fade-in the panel's text is paler than it is, so
    # the widget is checked as people who ask for reduced motion get it (no fade).
    shopper = browser.new_context(locale=language, reduced_motion="reduce").new_page()
    open_widget(shopper, shop_url)
    found += serious(shopper)
    assert found == [], "\n".join(found)


def test_console_tabs_follow_the_arrow_keys_and_one_region_announces(
    browser, live_server_url, shop_url, make_expert_account
):
    from tests.browser.helpers import send_from_widget, start_chat

    make_expert_account()
    console = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    console.goto(f"{live_server_url}/console/")
    console.get_by_test_id("shift-toggle").click()
    shoppers = []
    for name in ("Sam", "Noor"):
        shopper = browser.new_context().new_page()
        start_chat(shopper, shop_url, f"A question from {name}", name)
        shoppers.append(shopper)
    tabs = console.get_by_role("tab")
    expect(tabs).to_have_count(2)
    assert console.locator("[aria-live]").count() == 2  # the toasts and the announcer
    tabs.first.click()
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    console.keyboard.press("ArrowRight")
    expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")
    expect(tabs.nth(1)).to_be_focused()
    console.keyboard.press("Home")
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    send_from_widget(shoppers[1], "Is the case waterproof?")
    expect(console.get_by_test_id("announcer")).to_have_text(
        "New message from Noor: Is the case waterproof?"
    )


@pytest.mark.parametrize("language", ["en", "nl"])
def test_no_page_runs_off_the_side_from_320_to_1440_px(
    browser, live_server_url, make_expert_account, language
):
    """Every page the experts and staff use, in both languages, at phone to wide
    desktop widths: nothing wider than the window (a table may scroll in its box),
    and no menu hides links in a box of its own that scrolls sideways (the staff
    menu did, so the page itself never grew)."""
    make_expert_account(name="Anna de Vries-Van den Berg")
    create_staff(username="lead@shop.test", email="lead@shop.test", password="pw-123456")
    overflowing = []
    for login, paths in (
        ("anna@shop.test", EXPERT_PAGES),
        ("lead@shop.test", STAFF_PAGES),
    ):
        page = browser.new_context(locale=language).new_page()
        log_in(page, live_server_url, login)
        for width in (320, 1440):  # the narrowest phone and a wide desktop
            page.set_viewport_size({"width": width, "height": 800})
            for path in paths:
                page.goto(f"{live_server_url}{path}")
                extra = page.evaluate("document.documentElement.scrollWidth - innerWidth")
                if extra > 0:
                    widest = page.evaluate(
                        """() => [...document.querySelectorAll('body *')]
                            .filter((e) => e.getBoundingClientRect().right > innerWidth + 1)
                            .slice(-3).map((e) => e.tagName + '.' + e.className).join(' ')"""
                    )
                    overflowing.append(f"{path} at {width}px: {extra}px too wide ({widest})")
                menus = page.evaluate(
                    """() => [...document.querySelectorAll('nav, nav *')]
                        .filter((e) => e.scrollWidth > e.clientWidth + 1)
                        .map((e) => e.tagName + '.' + e.className)"""
                )
                if menus:
                    overflowing.append(f"{path} at {width}px: a menu scrolls sideways {menus}")
    assert overflowing == [], "\n".join(overflowing)
