"""Validation of inbound WebSocket frames, shared by every app's protocol module.

A frame is a JSON object with a string `type`; each app's protocol module
declares the fields each type takes. Anything else is refused with a
`ProtocolError` whose code the client can act on.
"""

import json
from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from django.utils.translation import gettext as _

from config.errors import ServiceError

MAX_FRAME_BYTES = 16 * 1024


class ProtocolError(ServiceError):
    ref: str | None = None  # the type of the frame that was refused, when known
    request_id: str | None = None  # its `id`, when it had one


@dataclass(frozen=True)
class Text:
    max_length: int
    min_length: int = 0
    required: bool = True

    def clean(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ProtocolError("bad_field", _("%(field)s must be text.") % {"field": name})
        value = value.strip()
        if len(value) > self.max_length:
            raise ProtocolError(
                "too_long",
                _("%(field)s is too long (at most %(max)d characters).")
                % {"field": name, "max": self.max_length},
            )
        if len(value) < self.min_length:
            raise ProtocolError("bad_field", _("%(field)s is required.") % {"field": name})
        return value


@dataclass(frozen=True)
class Integer:
    minimum: int = 0
    maximum: int = 2**31 - 1
    required: bool = True

    def clean(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(
                "bad_field", _("%(field)s must be a whole number.") % {"field": name}
            )
        if not self.minimum <= value <= self.maximum:
            raise ProtocolError(
                "bad_field",
                _("%(field)s must be between %(min)d and %(max)d.")
                % {"field": name, "min": self.minimum, "max": self.maximum},
            )
        return value


@dataclass(frozen=True)
class Boolean:
    required: bool = True

    def clean(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ProtocolError(
                "bad_field", _("%(field)s must be true or false.") % {"field": name}
            )
        return value


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]
    required: bool = True

    def clean(self, name: str, value: Any) -> str:
        if value not in self.choices:
            raise ProtocolError(
                "bad_field",
                _("%(field)s must be one of: %(choices)s.")
                % {"field": name, "choices": ", ".join(self.choices)},
            )
        return value


Field = Text | Integer | Boolean | Choice
FrameSpecs = dict[str, dict[str, Field]]


def parse_frame(text: str | None, binary: bytes | None, specs: FrameSpecs) -> dict[str, Any]:
    """Return the cleaned frame, or raise ProtocolError. Unknown fields are dropped."""
    if text is None:
        raise ProtocolError("bad_json", _("Frames must be JSON text, not binary."))
    if len(text.encode()) > MAX_FRAME_BYTES:
        raise ProtocolError("frame_too_large", _("This frame is too large."))
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_json", _("Frames must be valid JSON.")) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProtocolError("bad_json", _("Frames must be JSON objects with a type."))
    spec = specs.get(raw["type"])
    if spec is None:
        raise ProtocolError("unknown_type", _("Unknown frame type."))
    frame: dict[str, Any] = {"type": raw["type"]}
    # Any client frame may carry a request id; an error about it carries the same id.
    request_id = raw.get("id")
    if isinstance(request_id, str) and 0 < len(request_id) <= 64:
        frame["id"] = request_id
    try:
        for name, field in spec.items():
            if raw.get(name) is None:
                if field.required:
                    raise ProtocolError("bad_field", _("%(field)s is required.") % {"field": name})
                continue
            frame[name] = field.clean(name, raw[name])
    except ProtocolError as error:
        error.ref = raw["type"]
        error.request_id = frame.get("id")
        raise
    return frame


class Error(TypedDict):
    type: Literal["error"]
    code: str
    message: str
    ref: NotRequired[str]
    id: NotRequired[str]
    client_id: NotRequired[str]
    retry_after: NotRequired[int]


def error_frame(
    error: ServiceError,
    *,
    ref: str | None = None,
    client_id: str | None = None,
    request_id: str | None = None,
) -> Error:
    frame = Error(type="error", code=error.code, message=error.message)
    if ref:
        frame["ref"] = ref
    if request_id:
        frame["id"] = request_id
    if client_id:  # which of several unacknowledged messages was refused
        frame["client_id"] = client_id
    if (retry_after := getattr(error, "retry_after", None)) is not None:
        frame["retry_after"] = retry_after
    return frame


# -- what the platform sends (docs/protocol.md) ----------------------------------------


class Pong(TypedDict):
    type: Literal["pong"]


class Relay(TypedDict):
    """A client frame on its way to a group; each socket there sends `frame` to its
    client, except the sender's socket (`skip_channel`)."""

    type: Literal["relay"]
    frame: dict[str, Any]
    skip_channel: NotRequired[str]


class SessionCheck(TypedDict):
    """To a user's sockets: check the session and rights now; the sockets of the
    session whose digest is `ended` close at once."""

    type: Literal["session.check"]
    ended: NotRequired[str]


class MonitorChanged(TypedDict):
    type: Literal["monitor.changed"]
