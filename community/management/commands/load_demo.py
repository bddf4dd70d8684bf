"""Demo data for `make run`: a brand with 6 experts, 2 staff and some history.

Safe to run again: it only adds what is missing.
"""

import random
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, FollowUp, Message, Visitor
from community.models import Expert

EXPERT_PASSWORD = "expert-demo-2026"
STAFF_PASSWORD = "staff-demo-2026"
EXPERTS = [
    ("anna@demo.test", "Anna de Vries"),
    ("bram@demo.test", "Bram Jansen"),
    ("chloe@demo.test", "Chloé Martin"),
    ("daan@demo.test", "Daan Bakker"),
    ("eva@demo.test", "Eva Visser"),
    ("finn@demo.test", "Finn Mulder"),
]
STAFF = [("staff@demo.test", "Sanne Staff", True), ("lead@demo.test", "Lars Lead", False)]
TOPICS = [
    ("Which headphones are best for running?", "The Stride Sport stays put and is sweat-proof."),
    ("My earbuds won't pair with my laptop", "Reset by holding both buttons 10 s, then re-pair."),
    ("Is the studio monitor worth it for podcasts?", "For voice the Desk 2 is the better buy."),
    ("Noise cancelling on planes?", "The Voyager ANC handles engine drone best."),
    ("Battery drains overnight", "A firmware update fixes the standby drain."),
]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        users = get_user_model()
        rng = random.Random(2026)
        for email, name, superuser in STAFF:
            user = self._user(users, email, name, STAFF_PASSWORD)
            user.is_staff = True
            user.is_superuser = superuser
            user.save()
        experts = []
        for email, name in EXPERTS:
            user = self._user(users, email, name, EXPERT_PASSWORD)
            expert, _ = Expert.objects.get_or_create(user=user, defaults={"display_name": name})
            experts.append(expert)
        if not Conversation.objects.exists():
            self._history(experts, rng)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            "\n  Demo logins (log in at /accounts/login/):\n"
            + "".join(f"    expert  {email}  /  {EXPERT_PASSWORD}\n" for email, _ in EXPERTS[:3])
            + f"    ... and {', '.join(e for e, _ in EXPERTS[3:])} with the same password\n"
            + f"    staff   staff@demo.test  /  {STAFF_PASSWORD}  (also Django admin)\n"
            + f"    staff   lead@demo.test   /  {STAFF_PASSWORD}\n"
        )

    def _user(self, users, email: str, name: str, password: str):
        first, _, last = name.partition(" ")
        user, created = users.objects.get_or_create(
            username=email, defaults={"email": email, "first_name": first, "last_name": last}
        )
        if created:
            user.set_password(password)
            user.save()
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    def _history(self, experts: list[Expert], rng: random.Random) -> None:
        now = timezone.now()
        for day in range(1, 35):
            for _ in range(rng.randint(1, 4)):
                expert = rng.choice(experts)
                topic, answer = rng.choice(TOPICS)
                started = now - timedelta(days=day, minutes=rng.randint(0, 600))
                visitor = Visitor.objects.create(
                    name=rng.choice(["Sam", "Noor", "Lotte", "Jesse", "Mila", ""]),
                    created_at=started,
                )
                wait = timedelta(seconds=rng.randint(5, 240))
                duration = timedelta(minutes=rng.randint(3, 25))
                conversation = Conversation.objects.create(
                    visitor=visitor,
                    topic=topic,
                    status=Conversation.Status.RESOLVED,
                    expert=expert,
                    created_at=started,
                    queued_at=started,
                    assigned_at=started + wait,
                    resolved_at=started + wait + duration,
                    resolution_summary=answer,
                    rating=rng.choices([5, 4, 3, 2, None], weights=[5, 3, 1, 1, 2])[0],
                    last_seq=3,
                )
                Message.objects.bulk_create(
                    [
                        Message(conversation=conversation, seq=1, sender="customer", body=topic,
                                created_at=started),
                        Message(conversation=conversation, seq=2, sender="expert",
                                author=expert.user, body=answer, created_at=started + wait),
                        Message(conversation=conversation, seq=3, sender="customer",
                                body="Thanks, that helps!", created_at=started + wait + duration),
                    ]
                )
                if rng.random() < 0.2:
                    FollowUp.objects.create(
                        conversation=conversation,
                        expert=expert,
                        body="I tested this myself over the weekend: " + answer,
                        created_at=started + timedelta(days=1),
                    )
