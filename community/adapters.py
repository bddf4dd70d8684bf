from allauth.account.adapter import DefaultAccountAdapter


class InviteOnlyAccountAdapter(DefaultAccountAdapter):
    """Expert and staff accounts are created by staff; there is no open sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False
