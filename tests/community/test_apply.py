"""The public application form: field errors, no double posts, and a limit per network."""

import pytest

from community.models import ExpertApplication

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
