from django.http import JsonResponse
from django.utils.functional import Promise


class ServiceError(Exception):
    """A refused action: `code` is stable for clients, `message` is for people."""

    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = str(message)


def error_response(error: ServiceError, *, status: int) -> JsonResponse:
    """A refusal for scripts and fetch(): `{"error": {"code", "message"}}`."""
    return JsonResponse({"error": {"code": error.code, "message": error.message}}, status=status)
