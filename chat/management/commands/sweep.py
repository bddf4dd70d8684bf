import logging
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from chat import services
from community.services import expired_leases_sweep

logger = logging.getLogger(__name__)

SWEEPS = (
    ("expired console leases", expired_leases_sweep),
    ("absent experts' chats requeued", services.absent_experts_requeue),
    ("chats whose customer is gone", services.customers_away_sweep),
)


class Command(BaseCommand):
    help = (
        "Heal state on a schedule of its own, so a quiet system heals too: expired "
        "console leases, the grace requeue, chats whose customer is gone. Safe to run "
        "beside the sweeps sockets start on pings, and in several copies."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=2.0, help="seconds between rounds")
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args, every: float, once: bool, **options) -> None:
        while True:
            for name, sweep in SWEEPS:
                try:
                    changed = sweep()
                except DatabaseError:  # the next round tries again
                    logger.exception("sweep failed: %s", name)
                    continue
                if changed:
                    logger.info("%s: %d", name, changed)
                    if once:
                        self.stdout.write(f"{name}: {changed}")
            if once:
                return
            close_old_connections()
            time.sleep(every)
