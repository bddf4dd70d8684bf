"""Saved replies: an expert's own and the team's, one shortcut each, managed on
/console/replies/, refused clearly when the input is wrong."""

import pytest

from community import selectors, services
from community.models import SavedReply
from config.errors import ServiceError

pytestmark = pytest.mark.django_db


def test_own_replies_come_first_and_replace_a_team_reply_with_the_same_shortcut(make_expert):
    anna = make_expert()
    SavedReply.objects.create(shortcut="hello", body="Hello {name}!", body_nl="Hallo {name}!")
    SavedReply.objects.create(shortcut="warranty", body="Two years.", body_nl="Twee jaar.")
    services.saved_reply_add(expert=anna, shortcut="hello", body="Hey {name}, Anna here.")
    replies = selectors.saved_replies_for(expert=anna, language="nl")
    assert [(r["shortcut"], r["body"], r["shared"]) for r in replies] == [
        ("hello", "Hey {name}, Anna here.", False),
        ("warranty", "Twee jaar.", True),
    ]
    other = selectors.saved_replies_for(expert=make_expert(), language="en")
    assert [r["body"] for r in other] == ["Hello {name}!", "Two years."]


def test_a_shortcut_is_used_once_per_expert_and_the_count_is_capped(make_expert, monkeypatch):
    anna = make_expert()
    services.saved_reply_add(expert=anna, shortcut="size", body="Size S.")
    with pytest.raises(ServiceError) as refused:
        services.saved_reply_add(expert=anna, shortcut="size", body="Another")
    assert refused.value.code == "duplicate"
    monkeypatch.setattr(services, "MAX_SAVED_REPLIES", 1)
    with pytest.raises(ServiceError) as refused:
        services.saved_reply_add(expert=anna, shortcut="other", body="More")
    assert refused.value.code == "too_many"
    assert SavedReply.objects.filter(expert=anna).count() == 1


def test_nobody_deletes_a_reply_that_is_not_theirs(make_expert):
    anna, bram = make_expert(), make_expert()
    own = services.saved_reply_add(expert=anna, shortcut="size", body="Size S.")
    team = SavedReply.objects.create(shortcut="warranty", body="Two years.")
    for reply in (own, team):
        with pytest.raises(ServiceError):
            services.saved_reply_delete(expert=bram, reply_id=reply.pk)
    assert SavedReply.objects.count() == 2
    services.saved_reply_delete(expert=anna, reply_id=own.pk)
    assert list(SavedReply.objects.all()) == [team]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"shortcut": "two words", "body": "Hi"}, "letters, numbers, underscores or hyphens"),
        ({"shortcut": "size", "body": ""}, "This field is required"),
        ({"shortcut": "x" * 31, "body": "Hi"}, "at most 30 characters"),
        ({"shortcut": "size", "body": "y" * 2001}, "at most 2000 characters"),
    ],
)
def test_the_replies_page_marks_a_bad_field_and_stores_nothing(client, make_expert, form, error):
    anna = make_expert()
    client.force_login(anna.user)
    page = client.post("/console/replies/", form)
    assert page.status_code == 400
    assert error in page.content.decode()
    assert not SavedReply.objects.exists()


def test_the_replies_page_saves_and_lists_a_reply(client, make_expert):
    anna = make_expert()
    client.force_login(anna.user)
    page = client.post("/console/replies/", {"shortcut": "size", "body": "Size S."}, follow=True)
    assert page.status_code == 200
    assert "/size" in page.content.decode() and "Size S." in page.content.decode()


def test_saving_replies_is_limited_per_expert(client, make_expert, settings):
    """A script adding and deleting replies in a loop is held to the limit; another
    expert is not."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "expert.replies": "3/3600"}
    anna, bram = make_expert(name="Anna"), make_expert(name="Bram")
    client.force_login(anna.user)
    for n in range(3):
        client.post("/console/replies/", {"shortcut": f"r{n}", "body": "Hi"})
    refused = client.post("/console/replies/", {"shortcut": "r3", "body": "Hi"})
    assert refused.status_code == 429
    assert "Try again in" in refused.content.decode()
    reply = SavedReply.objects.get(shortcut="r0")
    client.post(f"/console/replies/{reply.pk}/delete/")
    assert SavedReply.objects.filter(expert=anna).count() == 3  # nothing added or deleted

    client.force_login(bram.user)
    assert client.post("/console/replies/", {"shortcut": "r0", "body": "Hi"}).status_code == 302
