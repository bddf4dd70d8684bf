"""Demo data for `make run`: a brand with 6 experts, 2 staff and some history.

Safe to run again: it only adds what is missing.
"""

import os
import random
from datetime import timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from catalog import services as catalog_services
from catalog.models import CatalogProduct
from chat.models import Conversation, FollowUp, Message, Visitor
from community import services as community_services
from community.models import AuditEntry, Expert
from community.permissions import EXPERTS_GROUP, STAFF_GROUP
from points import selectors as points_selectors
from points import services as points_services
from rewards import services as rewards_services
from rewards.models import Product, Redemption
from sales import services as sales_services
from sales.models import Order, WidgetOpen

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
DEMO_DAYS = 30  # of history, ending today
STAFF = [("staff@demo.test", "Sanne Staff", True), ("lead@demo.test", "Lars Lead", False)]
TOPICS = [
    ("Which headphones are best for running?", "The Stride Sport stays put and is sweat-proof."),
    ("My earbuds won't pair with my laptop", "Reset by holding both buttons 10 s, then re-pair."),
    ("Is the studio monitor worth it for podcasts?", "For voice the Desk 2 is the better buy."),
    ("Noise cancelling on planes?", "The Voyager ANC handles engine drone best."),
    ("Battery drains overnight", "A firmware update fixes the standby drain."),
]


DEMO_CATALOG = [
    ("AUR-ANC2", "Aurora ANC 2", "279.00"),
    ("STR-BUDS", "Stride Buds", "149.00"),
    ("STU-ONE", "Studio One", "349.00"),
    ("STR-TIPS-S", "Stride ear tips, size S (3 pairs)", "12.95"),
    ("STR-TIPS-L", "Stride ear tips, size L (3 pairs)", "12.95"),
    ("AUR-CASE", "Aurora travel case", "34.00"),
    ("USB-C-CBL", "USB-C charging cable, 1 m", "14.50"),
    ("VOY-ANC", "Voyager ANC", "229.00"),
]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    @transaction.atomic
    def _orders(self, rng: random.Random) -> None:
        """Some shoppers bought after their chat, as the shop would report it."""
        resolved = list(Conversation.objects.filter(status=Conversation.Status.RESOLVED))
        for number, chat in enumerate(rng.sample(resolved, min(14, len(resolved))), start=1):
            _sku, _name, price = rng.choice(DEMO_CATALOG)
            sales_services.order_record(
                order_id=f"NW-{1000 + number}",
                amount=Decimal(price),
                currency="EUR",
                ordered_at=chat.created_at + timedelta(hours=rng.randint(1, 100)),
                chat_id=chat.pk,
            )

    @transaction.atomic
    def _widget_opens(self, rng: random.Random) -> None:
        """Shoppers who opened the chat: each demo chat's, and ten a day who only looked,
        some of whom bought, reported with their widget reference (the conversion tile)."""
        now = timezone.now()
        opens = []
        for chat in Conversation.objects.filter(assigned_at__isnull=False):
            opened = chat.created_at - timedelta(minutes=rng.randint(1, 20))
            opens.append(
                WidgetOpen(
                    ref=f"demo-chat-{chat.pk}",
                    day=sales_services.brand_day(opened),
                    opened_at=opened,
                    conversation=chat,
                )
            )
        looked = []
        for number in range(DEMO_DAYS * 10):
            opened = now - timedelta(days=rng.randrange(DEMO_DAYS), minutes=rng.randint(0, 600))
            day = sales_services.brand_day(opened)
            opens.append(WidgetOpen(ref=f"demo-look-{number:04}", day=day, opened_at=opened))
            looked.append(opens[-1])
        WidgetOpen.objects.bulk_create(opens, ignore_conflicts=True)
        for number, shopper in enumerate(rng.sample(looked, DEMO_DAYS * 10 // 16), start=1):
            _sku, _name, price = rng.choice(DEMO_CATALOG)
            sales_services.order_record(
                order_id=f"WEB-{5000 + number}",
                amount=Decimal(price),
                currency="EUR",
                ordered_at=min(now, shopper.opened_at + timedelta(hours=rng.randint(1, 72))),
                chat_id=None,
                visitor_ref=shopper.ref,
            )

    def _catalog(self) -> None:
        """The demo shop's products (and more, for the experts' search), as a feed would
        bring them; their pages are the demo shop's product pages."""
        shop = f"http://localhost:{os.environ.get('PORT', '8000')}/shop/"
        catalog_services.catalog_load(
            rows=[
                {"sku": sku, "name": name, "price": price, "url": f"{shop}?product={sku}"}
                for sku, name, price in DEMO_CATALOG
            ]
        )

    def handle(self, *args, **options) -> None:
        users = get_user_model()
        rng = random.Random(2026)
        for email, name, superuser in STAFF:
            user = self._user(users, email, name, STAFF_PASSWORD)
            user.is_staff = True
            user.is_superuser = superuser
            user.save()
            user.groups.add(Group.objects.get(name=STAFF_GROUP))
        experts = []
        for email, name in EXPERTS:
            user = self._user(users, email, name, EXPERT_PASSWORD)
            expert, _ = Expert.objects.get_or_create(user=user, defaults={"display_name": name})
            user.groups.add(Group.objects.get(name=EXPERTS_GROUP))
            experts.append(expert)
        if not Conversation.objects.exists():
            self._history(experts, rng)
            self._points(experts)
        if not Product.objects.exists():
            self._products(experts)
        if not CatalogProduct.objects.exists():
            self._catalog()
        if not Order.objects.exists():
            self._orders(rng)
        if not WidgetOpen.objects.exists():
            self._widget_opens(rng)
        if not AuditEntry.objects.exists():
            self._staff_work(experts, lead=users.objects.get(username=STAFF[1][0]))
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
        """A month of resolved chats, ratings and follow-ups, each at its own time
        (never in the future); some experts are busier than others."""
        now = timezone.now()
        weights = [6, 4, 5, 3, 5, 2][: len(experts)]
        for day in range(DEMO_DAYS):
            for _ in range(rng.randint(1, 4)):
                expert = rng.choices(experts, weights=weights)[0]
                topic, answer = rng.choice(TOPICS)
                wait = timedelta(seconds=rng.randint(5, 240))
                duration = timedelta(minutes=rng.randint(3, 25))
                latest_start = now - wait - duration - timedelta(minutes=15)
                started = min(latest_start, now - timedelta(days=day, minutes=rng.randint(0, 600)))
                resolved = started + wait + duration
                rating = rng.choices([5, 4, 3, 2, None], weights=[5, 3, 1, 1, 2])[0]
                visitor = Visitor.objects.create(
                    name=rng.choice(["Sam", "Noor", "Lotte", "Jesse", "Mila", ""]),
                    created_at=started,
                )
                conversation = Conversation.objects.create(
                    visitor=visitor,
                    topic=topic,
                    status=Conversation.Status.RESOLVED,
                    expert=expert,
                    created_at=started,
                    queued_at=started,
                    assigned_at=started + wait,
                    resolved_at=resolved,
                    resolution_summary=answer,
                    rating=rating,
                    rated_at=resolved + timedelta(minutes=rng.randint(1, 10)) if rating else None,
                    last_seq=3,
                )
                Message.objects.bulk_create(
                    [
                        Message(
                            conversation=conversation,
                            seq=1,
                            sender="customer",
                            body=topic,
                            created_at=started,
                        ),
                        Message(
                            conversation=conversation,
                            seq=2,
                            sender="expert",
                            author=expert.user,
                            body=answer,
                            created_at=started + wait,
                        ),
                        Message(
                            conversation=conversation,
                            seq=3,
                            sender="customer",
                            body="Thanks, that helps!",
                            created_at=resolved,
                        ),
                    ]
                )
                sent = resolved + timedelta(hours=rng.randint(4, 30))
                if sent < now and rng.random() < 0.2:
                    helpful = sent + timedelta(hours=rng.randint(1, 20))
                    FollowUp.objects.create(
                        marked_helpful_at=helpful if helpful < now and rng.random() < 0.5 else None,
                        conversation=conversation,
                        expert=expert,
                        body="I tested this myself over the weekend: " + answer,
                        created_at=sent,
                    )

    def _points(self, experts: list[Expert]) -> None:
        """Award the history through the real ledger services, event by event: each
        entry carries the time of what it rewards (written now, as always)."""
        for conversation in Conversation.objects.filter(status="resolved").order_by("resolved_at"):
            points_services.points_award_for_resolved_chat(conversation=conversation)
            points_services.points_award_for_rating(conversation=conversation)
        for follow_up in FollowUp.objects.order_by("created_at"):
            points_services.points_award_for_follow_up(follow_up=follow_up)
            if follow_up.marked_helpful_at:
                points_services.points_award_for_helpful_follow_up(follow_up=follow_up)

    def _staff_work(self, experts: list[Expert], *, lead) -> None:
        """What staff did lately, through the same services (so it is in the audit
        log): shifts for the next days with experts signed up, the pending cap
        approved and shipped, a welcome bonus, and an application waiting."""
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        for days, hour, names in ((1, 10, experts[:2]), (1, 18, experts[2:3]), (2, 10, [])):
            start = today + timedelta(days=days, hours=hour)
            slot = community_services.shift_publish(
                starts_at=start, ends_at=start + timedelta(hours=4), capacity=2, staff_member=lead
            )
            for expert in names:
                community_services.shift_sign_up(slot_id=slot.pk, expert=expert)
        for redemption in Redemption.objects.filter(status=Redemption.Status.PENDING):
            rewards_services.redemption_approve(redemption_id=redemption.pk, staff_member=lead)
            rewards_services.redemption_ship(
                redemption_id=redemption.pk, staff_member=lead, tracking_note="PostNL 3SNWA0412"
            )
        points_services.points_adjust(
            expert=experts[-1],
            amount=25,
            reason="Welcome bonus for joining the launch week",
            staff_member=lead,
            idempotency_key="demo-welcome",
        )
        community_services.application_submit(
            name="Noor Bakker",
            email="noor@example.com",
            motivation="I have run three marathons with Stride Sport earbuds and love "
            "helping friends choose their gear.",
            product_areas="Running earbuds, travel headphones",
            availability="Weekday evenings and Saturday mornings",
        )

    def _products(self, experts: list[Expert]) -> None:
        now = timezone.now()
        catalog = [
            (
                "Northwind cap",
                "A soft cotton cap with the embroidered logo.",
                60,
                None,
                False,
                None,
                None,
                "#0f766e",
            ),
            (
                "Stride Sport earbuds",
                "Sweat-proof earbuds that stay put on long runs.",
                250,
                25,
                False,
                None,
                None,
                "#1d4ed8",
            ),
            (
                "Voyager ANC, first batch",
                "The new noise-cancelling headphones, before launch.",
                400,
                10,
                True,
                None,
                1,
                "#7c3aed",
            ),
            (
                "Studio Desk 2, signed",
                "Signed by the design team. Numbered, one per expert.",
                600,
                5,
                True,
                now + timedelta(days=3),
                1,
                "#b45309",
            ),
        ]
        for name, description, cost, stock, limited, opens, limit, colour in catalog:
            product = Product(
                name=name,
                description=description,
                points_cost=cost,
                stock=stock,
                limited_edition=limited,
                available_from=opens,
                per_expert_limit=limit,
            )
            product.image.save(
                f"{name.split()[0].lower()}.webp", _placeholder(name, colour), save=False
            )
            product.save()
        richest = max(experts, key=lambda e: points_selectors.balance(expert=e))
        cap = Product.objects.get(name="Northwind cap")
        rewards_services.redemption_place(
            expert=richest,
            product_id=cap.pk,
            shipping_address="Keizersgracht 1, Amsterdam",
            request_key="demo",
        )


def _placeholder(name: str, colour: str):
    """A generated product picture (the product's shape on its colour), so the demo
    ships no image files."""
    from io import BytesIO

    from django.core.files.base import ContentFile
    from PIL import Image, ImageDraw

    scale = 2  # drawn large and scaled down: smooth edges
    width, height = 480 * scale, 360 * scale
    base = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.new("RGB", (width, height), base)
    draw = ImageDraw.Draw(image)
    for y in range(height):  # light from the top
        lift = int(60 * (1 - y / height))
        draw.line([(0, y), (width, y)], fill=tuple(min(255, c + lift) for c in base))
    white, shade = (255, 255, 255), tuple(max(0, c - 40) for c in base)
    cx, cy = width // 2, height // 2
    kind = next((k for k in ("cap", "earbuds", "anc", "desk") if k in name.lower()), "desk")
    if kind == "cap":
        draw.chord([cx - 170, cy - 150, cx + 170, cy + 150], 180, 360, fill=white)
        draw.ellipse([cx - 40, cy - 165, cx + 40, cy - 140], fill=white)
        draw.rounded_rectangle([cx - 10, cy - 8, cx + 260, cy + 38], 24, fill=white)
        draw.line([cx, cy - 150, cx, cy], fill=shade, width=6)
    elif kind == "earbuds":
        for dx in (-110, 110):
            draw.ellipse([cx + dx - 80, cy - 120, cx + dx + 80, cy + 40], fill=white)
            draw.rounded_rectangle([cx + dx - 26, cy, cx + dx + 26, cy + 170], 26, fill=white)
            draw.ellipse([cx + dx - 34, cy - 74, cx + dx + 34, cy - 6], fill=shade)
    elif kind == "anc":
        draw.arc([cx - 190, cy - 230, cx + 190, cy + 150], 180, 360, fill=white, width=44)
        for dx in (-190, 190):
            draw.rounded_rectangle([cx + dx - 62, cy - 60, cx + dx + 62, cy + 150], 52, fill=white)
            draw.rounded_rectangle([cx + dx - 34, cy - 30, cx + dx + 34, cy + 120], 30, fill=shade)
    else:  # a desk speaker
        draw.rounded_rectangle([cx - 150, cy - 220, cx + 150, cy + 220], 40, fill=white)
        draw.ellipse([cx - 105, cy - 20, cx + 105, cy + 190], fill=shade)
        draw.ellipse([cx - 45, cy + 40, cx + 45, cy + 130], fill=white)
        draw.ellipse([cx - 42, cy - 170, cx + 42, cy - 86], fill=shade)
    image = image.resize((480, 360), Image.LANCZOS)
    buffer = BytesIO()
    image.save(buffer, format="WEBP", quality=85)
    return ContentFile(buffer.getvalue())
