from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chat.services import visitor_erase


class Command(BaseCommand):
    help = "Erase a customer's personal data on request (chats are anonymised, totals kept)."

    def add_arguments(self, parser):
        parser.add_argument("email", help="the address the customer used")
        parser.add_argument("--by", required=True, help="email of the staff member doing it")

    def handle(self, *args, email: str, by: str, **options) -> None:
        staff = get_user_model().objects.filter(email__iexact=by, is_staff=True).first()
        if staff is None:
            raise CommandError(f"No staff member with email {by}.")
        erased = visitor_erase(email=email, staff_member=staff)
        self.stdout.write(
            f"Erased for {email}: {erased['visitors']} visitor(s), "
            f"{erased['offline_messages']} offline message(s), "
            f"{erased['applications']} application(s); their visitor tokens are revoked."
        )
