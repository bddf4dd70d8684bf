"""The public application form: field errors, no double posts, and a limit per network."""

import pytest

from chat import services as chat_services
from community import selectors
from community.models import ExpertApplication
from config.errors import ServiceError

pytestmark = [pytest.mark.django_db]


def application(n: int = 0, **fields) -> dict:
    return {
        "name": "Sam Jansen",
        "email": f"sam{n}@example.com",
        "motivation": "I own every model and love helping.",
        "product_areas": "Earbuds",
        "availability": "Evenings",
        **fields,
    }


def test_an_empty_form_marks_every_field_and_stores_nothing(client):
    page = client.post("/apply/", {})
    assert page.status_code == 200
    form = page.context["form"]
    assert set(form.errors) == {"name", "email", "motivation", "product_areas", "availability"}
    assert page.content.count(b'aria-invalid="true"') == 5
    assert not ExpertApplication.objects.exists()


def test_a_megabyte_application_is_refused_with_a_field_error(client):
    page = client.post("/apply/", application(motivation="x" * 2_400_000))
    assert "motivation" in page.context["form"].errors
    assert not ExpertApplication.objects.exists()


def test_a_reload_after_applying_does_not_apply_again(client):
    sent = client.post("/apply/", application())
    assert sent.status_code == 302 and sent["Location"] == "/apply/thanks/"
    thanks = client.get("/apply/thanks/")
    assert b"Thank you, Sam Jansen!" in thanks.content
    assert client.get("/apply/thanks/")["Location"] == "/apply/"
    assert ExpertApplication.objects.count() == 1


def test_applications_are_limited_per_network_whatever_the_forwarded_for(client, settings):
    """Before: 100 applications from one script in 2.3 s were all stored."""
    settings.TRUSTED_PROXIES = []
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "page.apply": "5/3600"}
    codes = [
        client.post("/apply/", application(n), HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(8)
    ]
    assert codes == [302] * 5 + [429] * 3
    assert ExpertApplication.objects.count() == 5
    refused = client.post("/apply/", application(99))
    assert b"Try again in" in refused.content


def test_the_widgets_invite_fills_in_what_the_customer_gave_in_the_chat(client, make_visitor):
    """Before: the form came up empty for a customer the widget had just invited."""
    visitor = make_visitor(name="Noor Bakker", email="noor@example.com")
    chat = chat_services.conversation_start(visitor=visitor, topic="Which earbuds for running?")
    invite = selectors.application_invite(conversation_id=chat.pk, visitor=visitor)

    form = client.get(f"/apply/?invite={invite}").context["form"]
    assert (form["name"].value(), form["email"].value()) == ("Noor Bakker", "noor@example.com")
    sent = client.post(
        "/apply/",
        application(name="Noor Bakker", email="noor@example.com", invite=invite),
    )
    assert sent.status_code == 302
    assert ExpertApplication.objects.get().visitor == visitor


def test_an_invite_is_only_for_the_chats_own_customer_and_cannot_be_forged(client, make_visitor):
    visitor = make_visitor(name="Noor", email="noor@example.com")
    chat = chat_services.conversation_start(visitor=visitor, topic="Which earbuds?")
    with pytest.raises(ServiceError):
        selectors.application_invite(conversation_id=chat.pk, visitor=make_visitor())
    forged = f"{chat.pk}:forged"
    form = client.get(f"/apply/?invite={forged}").context["form"]
    assert form["email"].value() is None
    client.post("/apply/", application(invite=forged))
    assert ExpertApplication.objects.get().visitor is None


def test_a_second_application_marks_the_email_field(client):
    client.post("/apply/", application())
    page = client.post("/apply/", application())
    assert page.context["form"].errors["email"] == [
        "You already applied; we will get back to you soon."
    ]


def test_the_home_page_invites_applications(client):
    """Before: "Applications open soon", while the form was open all along."""
    page = client.get("/").content.decode()
    assert "open soon" not in page
    assert 'href="/apply/"' in page
