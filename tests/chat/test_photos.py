"""Photos in chats: what is stored is a clean re-encoded image, only the chat's
people (and staff) get to see it, and uploads are limited."""

import re
import time
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from chat import selectors, services
from chat.models import Message, Photo
from realtime import broadcast
from tests.conftest import create_staff

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example"


def jpeg_with_location(size=(800, 600), image: Image.Image | None = None) -> bytes:
    """A phone photo: EXIF with where it was taken, turned on its side (orientation 6)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 22.0, 1.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (4.0, 53.0, 2.0)
    out = BytesIO()
    (image or Image.new("RGB", size, "orange")).save(out, "JPEG", exif=exif)
    assert Image.open(BytesIO(out.getvalue())).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return out.getvalue()


def image_bytes(format_: str, size=(64, 48), mode="RGB", color="teal") -> bytes:
    out = BytesIO()
    Image.new(mode, size, color).save(out, format_)
    return out.getvalue()


@pytest.fixture(autouse=True)
def photo_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "photos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "photos"},
        },
    }
    settings.WIDGET_ALLOWED_ORIGINS = [SHOP]
    return tmp_path / "photos"


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def chat(make_expert, make_visitor):
    expert = make_expert(name="Anna de Vries")
    conversation = services.conversation_start(visitor=make_visitor(name="Sam"), topic="Hinge?")
    conversation.refresh_from_db()
    assert conversation.expert == expert
    return conversation


def widget_upload(client, conversation, data: bytes, *, name="hinge.jpg", client_id="p1", **kw):
    token = kw.pop("token", None) or selectors.visitor_token(conversation.visitor)
    return client.post(
        "/widget/photos/",
        {
            "conversation": conversation.pk,
            "client_id": client_id,
            "photo": SimpleUploadedFile(name, data, "image/jpeg"),
        },
        HTTP_X_VISITOR_TOKEN=token,
        HTTP_ORIGIN=SHOP,
        **kw,
    )


def console_upload(client, conversation, data: bytes, *, client_id="e1", url="/console/photos/"):
    return client.post(
        url,
        {
            "conversation": conversation.pk,
            "client_id": client_id,
            "photo": SimpleUploadedFile("hinge.jpg", data),
        },
    )


def fetched(client, link: str) -> Image.Image:
    return Image.open(BytesIO(b"".join(client.get(link).streaming_content)))


def shown_photo(conversation, *, for_customer=True) -> dict:
    [message] = [
        m
        for m in selectors.messages_after(
            conversation_id=conversation.pk, last_seq=0, for_customer=for_customer
        )
        if "photo" in m
    ]
    return message


def test_a_customers_photo_is_stored_upright_without_its_location_and_shown_in_the_chat(
    client, chat, listen, django_capture_on_commit_callbacks
):
    listener = listen(broadcast.conversation_group(chat.pk))
    with django_capture_on_commit_callbacks(execute=True):
        answer = widget_upload(client, chat, jpeg_with_location())
    assert answer.status_code == 201, answer.content
    assert answer["Access-Control-Allow-Origin"] == SHOP

    # The expert's socket is told at once, with links to it.
    [frame] = [f for f in listener.frames() if f["type"] == "message"]
    assert frame["message"]["sender"] == "customer"
    assert frame["message"]["seq"] == answer.json()["seq"]
    # A resume replays it, with fresh links.
    replayed = shown_photo(chat)
    assert replayed["body"] == "[photo]"
    full = client.get(replayed["photo"]["url"])
    assert full.status_code == 200
    assert full["Content-Type"] == "image/jpeg"
    assert full["X-Content-Type-Options"] == "nosniff"
    assert full["Cache-Control"].startswith("private")
    data = b"".join(full.streaming_content)
    image = Image.open(BytesIO(data))
    assert image.format == "JPEG"
    assert image.size == (600, 800)  # turned upright
    assert not image.getexif()  # no location, no camera, nothing
    assert b"Exif" not in data and b"PhoneCo" not in data
    assert max(fetched(client, replayed["photo"]["thumbnail"]).size) == 480
    assert "[photo]" in selectors.transcript_text(conversation=chat)


def test_a_png_named_jpg_is_taken_for_what_it_is_and_heic_is_converted(client, chat):
    png = image_bytes("PNG", mode="RGBA", color=(0, 0, 0, 0))  # transparent
    assert widget_upload(client, chat, png, name="receipt.jpg").status_code == 201
    heic = image_bytes("HEIF")
    answer = widget_upload(client, chat, heic, name="IMG_0001.HEIC", client_id="p2")
    assert answer.status_code == 201
    png_photo, heic_photo = [
        fetched(client, selectors.photo_links(photo.pk)["url"])
        for photo in Photo.objects.order_by("pk")
    ]
    for image in (png_photo, heic_photo):
        assert (image.format, image.mode) == ("JPEG", "RGB")
    assert png_photo.getpixel((1, 1)) == (255, 255, 255)  # transparency on white


@pytest.mark.parametrize(
    ("data", "code", "status"),
    [
        (b"hello, this is text\n" * 50, "not_an_image", 400),
        (image_bytes("GIF"), "not_an_image", 400),
        (jpeg_with_location()[:600], "not_an_image", 400),  # truncated
        # 100 megapixels in a few kilobytes: it would take 300 MB decoded.
        (image_bytes("PNG", size=(10_000, 10_000), mode="1", color=0), "too_many_pixels", 400),
    ],
    ids=["text-named-jpg", "gif", "truncated", "decompression-bomb"],
)
def test_what_is_not_a_photo_is_refused_and_nothing_is_stored(
    client, chat, photo_storage, data, code, status
):
    seq = chat.last_seq
    answer = widget_upload(client, chat, data)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    chat.refresh_from_db()
    assert chat.last_seq == seq
    assert not Photo.objects.exists() and not stored_files(photo_storage)


def test_a_photo_over_the_size_limit_is_refused(client, chat, settings, photo_storage):
    settings.CHAT_PHOTO_MAX_BYTES = 2_000
    big = jpeg_with_location(size=(400, 300)) + b"\0" * 3_000
    answer = widget_upload(client, chat, big)
    assert answer.status_code == 413
    assert "at most 2.0" in answer.json()["error"]["message"]
    # Said by the request's length, refused before its body is read.
    answer = client.post(
        "/widget/photos/",
        b"x",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(100 * 1024 * 1024),
        HTTP_X_VISITOR_TOKEN=selectors.visitor_token(chat.visitor),
    )
    assert answer.status_code == 413
    assert not Photo.objects.exists() and not stored_files(photo_storage)


def test_only_the_chats_customer_and_expert_may_upload(client, chat, make_visitor, make_expert):
    photo = jpeg_with_location()
    stranger = make_visitor()
    answer = widget_upload(client, chat, photo, token=selectors.visitor_token(stranger))
    assert answer.status_code == 404
    assert widget_upload(client, chat, photo, token="forged").status_code == 404

    assert console_upload(client, chat, photo).status_code == 403  # nobody signed in
    client.force_login(make_expert(name="Other").user)
    assert console_upload(client, chat, photo).status_code == 404
    assert not Photo.objects.exists()

    client.force_login(chat.expert.user)
    assert console_upload(client, chat, photo).status_code == 201
    assert shown_photo(chat)["sender"] == "expert"


def staff_upload(client, conversation, data: bytes, *, client_id="s1"):
    return console_upload(client, conversation, data, client_id=client_id, url="/staff/photos/")


def test_staff_who_took_the_chat_over_attach_photos_as_its_expert_did(client, chat):
    """A receipt or a diagram: the staff member answering the customer sends it like
    an expert, cleaned the same way; other staff, and the expert who left, may not."""
    lead = create_staff(username="lead@shop.test")
    other = create_staff(username="other@shop.test")
    expert_user = chat.expert.user
    client.force_login(lead)
    assert staff_upload(client, chat, jpeg_with_location()).status_code == 404  # not taken
    services.conversation_take_over(conversation_id=chat.pk, staff_member=lead)
    client.force_login(other)
    assert staff_upload(client, chat, jpeg_with_location()).status_code == 404
    client.force_login(expert_user)
    assert console_upload(client, chat, jpeg_with_location()).status_code == 404
    assert staff_upload(client, chat, jpeg_with_location()).status_code == 403  # not staff
    assert not Photo.objects.exists()

    client.force_login(lead)
    answer = staff_upload(client, chat, jpeg_with_location())
    assert answer.status_code == 201, answer.content
    shown = shown_photo(chat)
    assert (shown["sender"], shown["body"]) == ("staff", "[photo]")
    image = fetched(client, shown["photo"]["url"])
    assert image.size == (600, 800) and not image.getexif()


def test_staff_uploads_are_limited_per_staff_member(client, chat, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "staff.photo": "2/3600"}
    lead = create_staff(username="lead@shop.test")
    services.conversation_take_over(conversation_id=chat.pk, staff_member=lead)
    client.force_login(lead)
    assert staff_upload(client, chat, b"not a photo").status_code == 400
    assert staff_upload(client, chat, jpeg_with_location(), client_id="s2").status_code == 201
    answer = staff_upload(client, chat, jpeg_with_location(), client_id="s3")
    assert answer.status_code == 429 and int(answer["Retry-After"]) > 0
    client.force_login(create_staff(username="other@shop.test"))
    assert staff_upload(client, chat, jpeg_with_location()).status_code == 404  # not 429
    assert Photo.objects.count() == 1


def test_a_closed_chat_or_a_suspended_expert_is_refused_with_a_reason(client, chat):
    from django.utils import timezone

    expert = chat.expert
    client.force_login(expert.user)
    expert.suspended_at = timezone.now()
    expert.save(update_fields=["suspended_at"])
    answer = console_upload(client, chat, jpeg_with_location())
    assert (answer.status_code, answer.json()["error"]["message"]) == (
        403,
        "Your expert account is suspended.",
    )
    services.conversation_leave(conversation_id=chat.pk, visitor=chat.visitor)
    answer = widget_upload(client, chat, jpeg_with_location())
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "chat_closed")
    assert not Photo.objects.exists()


def test_links_work_for_an_hour_and_a_hidden_photo_only_for_staff_and_the_expert(
    client, chat, monkeypatch
):
    assert widget_upload(client, chat, jpeg_with_location()).status_code == 201
    links = shown_photo(chat)["photo"]
    assert client.get(links["url"].replace("/photos/", "/photos/x")).status_code == 404
    now = time.time()
    monkeypatch.setattr("django.core.signing.time.time", lambda: now + 3_601)
    assert client.get(links["url"]).status_code == 404  # expired
    monkeypatch.setattr("django.core.signing.time.time", lambda: now)
    assert client.get(links["url"]).status_code == 200

    staff = create_staff(username="lead@shop.test", email="lead@shop.test", password="pw-123456")
    message = Message.objects.get(photo__isnull=False)
    services.message_hide(
        conversation_id=chat.pk, seq=message.seq, staff_member=staff, reason="A face"
    )
    assert "photo" not in shown_photo_or_placeholder(chat)
    assert client.get(links["url"]).status_code == 404  # the customer's link
    client.force_login(staff)
    assert client.get(links["url"]).status_code == 200
    client.force_login(chat.expert.user)
    assert client.get(links["url"]).status_code == 200


def shown_photo_or_placeholder(conversation) -> dict:
    return selectors.messages_after(conversation_id=conversation.pk, last_seq=0, for_customer=True)[
        -1
    ]


def test_uploads_are_limited_per_visitor_and_refusals_count(client, chat, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "visitor.photo": "2/3600"}
    assert widget_upload(client, chat, b"not a photo").status_code == 400
    assert widget_upload(client, chat, jpeg_with_location()).status_code == 201
    answer = widget_upload(client, chat, jpeg_with_location(), client_id="p2")
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) > 0
    assert Photo.objects.count() == 1


def test_uploads_are_limited_per_network(client, chat, make_visitor, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "widget.photo": "1/3600"}
    assert widget_upload(client, chat, jpeg_with_location()).status_code == 201
    other = services.conversation_start(visitor=make_visitor(), topic="Mine too")
    answer = widget_upload(client, other, jpeg_with_location())
    assert answer.status_code == 429


def test_a_retried_upload_is_stored_once(client, chat, photo_storage):
    first = widget_upload(client, chat, jpeg_with_location())
    again = widget_upload(client, chat, jpeg_with_location())
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["seq"] == again.json()["seq"]
    assert Photo.objects.count() == 1 and len(stored_files(photo_storage)) == 2


def test_the_widget_may_upload_from_the_shops_it_is_on_only(client):
    allowed = client.options("/widget/photos/", HTTP_ORIGIN=SHOP)
    assert allowed["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert "X-Visitor-Token" in allowed["Access-Control-Allow-Headers"]
    other = client.options("/widget/photos/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in other


def test_erasing_a_customer_deletes_their_photos(
    client, chat, photo_storage, django_capture_on_commit_callbacks
):
    chat.visitor.email = "sam@example.com"
    chat.visitor.save(update_fields=["email"])
    assert widget_upload(client, chat, jpeg_with_location()).status_code == 201
    links = shown_photo(chat)["photo"]
    staff = create_staff(username="lead@shop.test", email="lead@shop.test", password="pw-123456")
    with django_capture_on_commit_callbacks(execute=True):
        services.visitor_erase(email="sam@example.com", staff_member=staff)
    assert not Photo.objects.exists() and not stored_files(photo_storage)
    assert client.get(links["url"]).status_code == 404


def test_a_chat_that_closes_during_the_upload_keeps_no_files(
    client, chat, photo_storage, monkeypatch
):
    """The chat is checked before the photo is decoded, and ends meanwhile."""
    monkeypatch.setattr("chat.services.photos._check_open", lambda **participant: None)
    services.conversation_leave(conversation_id=chat.pk, visitor=chat.visitor)
    answer = widget_upload(client, chat, jpeg_with_location())
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "chat_closed")
    assert not Photo.objects.exists() and not stored_files(photo_storage)


def test_the_expert_sees_the_photo_again_on_the_past_chats_page(client, chat):
    assert widget_upload(client, chat, jpeg_with_location()).status_code == 201
    services.conversation_resolve(conversation_id=chat.pk, expert=chat.expert, summary="Hinge")
    client.force_login(chat.expert.user)
    page = client.get(f"/console/chats/{chat.pk}/").content.decode()
    [full] = re.findall(r'href="(/photos/[^"]+)"', page)
    [thumbnail] = re.findall(r'src="(/photos/[^"]+)"', page)
    assert fetched(client, full).size == (600, 800)
    assert max(fetched(client, thumbnail).size) == 480
