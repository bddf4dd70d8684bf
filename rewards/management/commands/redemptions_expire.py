from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from rewards.services import redemptions_expire


class Command(BaseCommand):
    help = "Release pending redemptions that staff did not decide on in time (run daily)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=14, help="pending longer than this")

    def handle(self, *args, days: int, **options) -> None:
        expired = redemptions_expire(older_than=timezone.now() - timedelta(days=days))
        self.stdout.write(f"Expired {expired} redemption(s); points and stock released.")
