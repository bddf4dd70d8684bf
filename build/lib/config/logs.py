"""One line per event: JSON in production (LOG_FORMAT=json), carrying the id of the
request or socket it belongs to, so an operator can follow one through the logs."""

import json
import logging
import time
import uuid
from contextvars import ContextVar

from config.client_ip import is_trusted_peer

# "req-…" for an HTTP request, "ws-…" for a socket; inherited by the database thread.
context_id: ContextVar[str] = ContextVar("log_context_id", default="")


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class ContextIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.context_id = context_id.get()
        return True


class JsonFormatter(logging.Formatter):
    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "context_id", ""):
            event["id"] = record.context_id
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


class RequestIdMiddleware:
    """Names each request in the logs and in the X-Request-ID response header; a
    trusted proxy's X-Request-ID (nginx's $request_id) is kept, so both logs agree."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        trusted = given and is_trusted_peer(request.META.get("REMOTE_ADDR"))
        request_id = given[:64] if trusted else new_id("req")
        token = context_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            context_id.reset(token)
        response["X-Request-ID"] = request_id
        return response
