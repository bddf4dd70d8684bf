from allauth.account.adapter import DefaultAccountAdapter

from config.client_ip import client_ip_from_request, ip_bucket


class InviteOnlyAccountAdapter(DefaultAccountAdapter):
    """Expert and staff accounts are created by staff; there is no open sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_client_ip(self, request) -> str:
        """The address allauth's limits key on: the same one every other limit uses
        (X-Forwarded-For only from TRUSTED_PROXIES; works behind `daphne -u`)."""
        return ip_bucket(client_ip_from_request(request))

    # The page itself shows who is signed in; a "Successfully signed in" banner only
    # pushed the console's panes below the fold, and never went away.
    QUIET_MESSAGES = {"account/messages/logged_in.txt", "account/messages/logged_out.txt"}

    def add_message(self, request, level, message_template=None, *args, **kwargs):
        if message_template in self.QUIET_MESSAGES:
            return
        super().add_message(request, level, message_template, *args, **kwargs)
