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
