"""A shopper attaches a photo from the widget (the upload code loads only then); the
expert sees its thumbnail and opens it full size, without the photo's location; the
expert sends one back. Dutch widget at phone width, console at desktop and phone."""

import re
from io import BytesIO

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.helpers import PASSWORD, go_on_shift, log_in, start_chat
from tests.chat.test_photos import jpeg_with_location
from tests.conftest import create_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def snapshot(size: tuple[int, int], background: str, part: str) -> Image.Image:
    """Something that looks like a photo of a part on a table, for the screenshots."""
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    width, height = size
    base = image.getpixel((0, 0))
    for y in range(height):  # light from the top
        shade = int(40 * y / height)
        draw.line([(0, y), (width, y)], fill=tuple(max(0, c - shade) for c in base))
    draw.rounded_rectangle(
        [width * 0.2, height * 0.42, width * 0.8, height * 0.58], radius=height * 0.05, fill=part
    )
    r = height * 0.035
    for x in (width * 0.3, width * 0.5, width * 0.7):
        draw.ellipse([x - r, height * 0.5 - r, x + r, height * 0.5 + r], fill="#ddd")
    return image


def test_a_shoppers_photo_reaches_the_expert_without_its_location(
    browser, live_server_url, shop_url, make_expert_account, screenshot_dir, tmp_path
):
    make_expert_account()
    console = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(console, live_server_url, "anna@shop.test")
    go_on_shift(console, live_server_url)

    shopper = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="nl-NL", reduced_motion="reduce"
    ).new_page()
    loaded = []
    shopper.on("request", lambda request: loaded.append(request.url))
    start_chat(shopper, shop_url, "Het scharnier van mijn koptelefoon is gebroken", "Sam")
    pane = console.get_by_test_id("chat-pane").first
    expect(pane).to_be_visible()
    assert not [url for url in loaded if "widget-photo" in url]  # not on the first load

    hinge = tmp_path / "IMG_0420.jpg"
    hinge.write_bytes(jpeg_with_location(image=snapshot((1600, 1200), "#e8d9c4", "#3b3f45")))
    with shopper.expect_file_chooser() as chooser:
        shopper.get_by_test_id("attach").click()
    chooser.value.set_files(hinge)
    mine = shopper.get_by_test_id("photo")
    expect(mine).to_have_count(1)
    # Its alt text says what it is (in Dutch once the catalogs are merged).
    expect(mine.locator("img")).to_have_attribute("alt", re.compile(r"\w"))
    shopper.wait_for_function(
        "() => document.querySelector('brand-expert-widget').shadowRoot"
        ".querySelector('[data-testid=photo] img').naturalWidth > 0"
    )
    expect(shopper.get_by_test_id("photo-sending")).to_have_count(0)

    # A file that is no photo is refused with the reason, whatever it is called.
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo")
    with shopper.expect_file_chooser() as chooser:
        shopper.get_by_test_id("attach").click()
    chooser.value.set_files(notes)
    expect(shopper.get_by_test_id("composer-error")).to_contain_text(
        re.compile("JPEG.+PNG.+WebP")  # in Dutch: "JPEG-, PNG-, WebP- of HEIC-foto"
    )
    expect(shopper.get_by_test_id("photo")).to_have_count(1)
    expect(shopper.get_by_test_id("photo-sending")).to_have_count(0)
    shopper.get_by_test_id("composer").fill("Hier is de foto")
    expect(shopper.get_by_test_id("composer-error")).to_be_hidden()
    shopper.screenshot(path=screenshot_dir / "widget-photo-phone-nl.png")

    # The expert sees the thumbnail and opens the full size: upright, no location.
    thumbnail = pane.get_by_test_id("photo")
    expect(thumbnail).to_have_count(1)
    console.wait_for_function(
        "() => document.querySelector('[data-testid=photo]').naturalWidth > 0"
    )
    console.screenshot(path=screenshot_dir / "console-photo-desktop-en.png")
    with console.expect_popup() as popup:
        thumbnail.click()
    full = popup.value
    full.wait_for_load_state()
    assert "/photos/" in full.url
    answer = full.request.get(full.url)
    assert answer.headers["content-type"] == "image/jpeg"
    image = Image.open(BytesIO(answer.body()))
    assert image.size == (1200, 1600)  # turned upright, as the phone meant it
    assert not image.getexif()  # no GPS location, no camera
    full.close()

    # The expert answers with a photo of their own, from the console.
    reply = tmp_path / "spare-hinge.png"
    snapshot((900, 600), "#d6e4ea", "#8a8f96").save(reply)
    with console.expect_file_chooser() as chooser:
        pane.get_by_test_id("attach-button").click()
    chooser.value.set_files(reply)
    expect(pane.get_by_test_id("photo")).to_have_count(2)
    theirs = shopper.get_by_test_id("photo")
    expect(theirs).to_have_count(2)
    with shopper.expect_popup() as popup:
        theirs.last.click()
    popup.value.wait_for_load_state()
    assert "/photos/" in popup.value.url
    popup.value.close()

    # Back on the shop later: the chat resumes with both photos, freshly signed.
    shopper.reload()
    expect(shopper.get_by_test_id("photo")).to_have_count(2)
    shopper.wait_for_function(
        "() => [...document.querySelector('brand-expert-widget').shadowRoot"
        ".querySelectorAll('[data-testid=photo] img')].every((i) => i.naturalWidth > 0)"
    )
    shopper.screenshot(path=screenshot_dir / "widget-photo-reply-phone-nl.png")
    shopper.set_viewport_size({"width": 1366, "height": 850})
    shopper.screenshot(path=screenshot_dir / "widget-photo-desktop-nl.png")
    console.set_viewport_size({"width": 390, "height": 844})
    pane.get_by_test_id("attach-button").scroll_into_view_if_needed()
    console.screenshot(path=screenshot_dir / "console-photo-phone-en.png")

    # Staff watching the chat see both thumbnails.
    create_staff(username="lead@shop.test", email="lead@shop.test", password=PASSWORD)
    monitor = browser.new_context(viewport={"width": 1366, "height": 850}).new_page()
    log_in(monitor, live_server_url, "lead@shop.test")
    monitor.goto(f"{live_server_url}/staff/monitor/")
    monitor.get_by_test_id("monitor-chat").first.click()
    shown = monitor.get_by_test_id("chat-view-messages").get_by_test_id("photo")
    expect(shown).to_have_count(2)
    monitor.wait_for_function(
        "() => [...document.querySelectorAll('.msg__photo img')].every((i) => i.naturalWidth > 0)"
    )
    monitor.screenshot(path=screenshot_dir / "staff-monitor-photo-desktop-en.png")
