from django.core.management.base import BaseCommand, CommandError

from points.models import LedgerEntry
from points.selectors import audit_mismatches


class Command(BaseCommand):
    help = "Recompute every balance from the ledger and compare with the cached balances."

    def handle(self, *args, **options) -> None:
        mismatches = audit_mismatches()
        if mismatches:
            for expert_id, name, cached, ledger in mismatches:
                self.stderr.write(
                    f"MISMATCH expert {expert_id} ({name}): cached {cached}, ledger sum {ledger}, "
                    f"difference {cached - ledger:+d}"
                )
            raise CommandError(f"{len(mismatches)} balance(s) do not match the ledger.")
        self.stdout.write(
            self.style.SUCCESS(
                f"All balances match the ledger ({LedgerEntry.objects.count()} entries)."
            )
        )
