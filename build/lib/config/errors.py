from django.utils.functional import Promise


class ServiceError(Exception):
    """A refused action: `code` is stable for clients, `message` is for people."""

    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = str(message)
