"""The base of every WebSocket consumer: validated frames in, JSON frames out,
and whatever services broadcast relayed to the client."""

import json
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header

from config.errors import ServiceError
from config.frames import FrameSpecs, error_frame, parse_frame

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_FLOODING = 4429


class FrameBudget:
    """A token bucket per socket: `rate` frames a second, bursts up to `burst`."""

    def __init__(self, *, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.refilled = float(burst), time.monotonic()
        self.refusals = 0

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refusals += 1
        return False


def supported_language(*candidates: str | None) -> str:
    for candidate in candidates:
        try:
            return translation.get_supported_language_variant(candidate or "")
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def language_from_scope(scope: dict) -> str:
    """The language cookie set by the switcher, else the browser's Accept-Language."""
    cookie = (scope.get("cookies") or {}).get(settings.LANGUAGE_COOKIE_NAME)
    header = dict(scope.get("headers") or {}).get(b"accept-language", b"").decode("latin1")
    return supported_language(cookie, *(code for code, _q in parse_accept_lang_header(header)))


class FrameSocket(AsyncWebsocketConsumer):
    frames: FrameSpecs = {}
    language: str | None = None
    # Flood control: past the budget a frame gets `rate_limited`; whoever keeps
    # going after MAX_REFUSALS refusals is disconnected with CLOSE_FLOODING.
    FRAMES_PER_SECOND = 5
    FRAME_BURST = 20
    MAX_REFUSALS = 20
    budget: FrameBudget | None = None
    closing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined_groups: set[str] = set()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels hops to the database thread before every event to close stale
        # connections. Our database calls do that themselves (realtime.database_call),
        # so events that never touch the database, most relays, skip the hop.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def join(self, group: str) -> None:
        """Join a group for as long as this socket lives (see websocket_disconnect)."""
        self.joined_groups.add(group)
        await self.channel_layer.group_add(group, self.channel_name)

    async def leave(self, group: str) -> None:
        self.joined_groups.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        # The pub/sub layer keeps a group subscribed until its last member leaves.
        for group in list(self.joined_groups):
            try:
                await self.leave(group)
            except Exception:  # Redis away: its restart forgets subscriptions anyway
                logger.exception("could not leave %s", group)
        await super().websocket_disconnect(message)

    def activate_language(self) -> None:
        if self.language is None:
            self.language = language_from_scope(self.scope)
        translation.activate(self.language)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closing:  # frames that were on their way when we closed
            return
        self.activate_language()
        if self.budget is None:
            self.budget = FrameBudget(rate=self.FRAMES_PER_SECOND, burst=self.FRAME_BURST)
        if not self.budget.allow():
            if self.budget.refusals > self.MAX_REFUSALS:
                await self.close(code=CLOSE_FLOODING)
                return
            error = ServiceError("rate_limited", _("Slow down: too many messages at once."))
            await self.send_frame(error_frame(error))
            return
        frame: dict[str, Any] = {}
        try:
            frame = parse_frame(text_data, bytes_data, self.frames)
            await self.check_ready(frame)
            await getattr(self, "on_" + frame["type"].replace(".", "_"))(frame)
        except ServiceError as error:
            ref = frame.get("type") or getattr(error, "ref", None)
            await self.send_frame(error_frame(error, ref=ref, client_id=frame.get("client_id")))
        except DatabaseError:
            # The transaction rolled back as a whole; the client may simply retry.
            logger.exception("database unavailable while handling %s", frame.get("type"))
            error = ServiceError("unavailable", _("We could not save that just now. Try again."))
            await self.send_frame(
                error_frame(error, ref=frame.get("type"), client_id=frame.get("client_id"))
            )

    async def check_ready(self, frame: dict[str, Any]) -> None:
        """Hook: refuse frames that need a handshake or a login first."""

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, separators=(",", ":")))

    async def refuse_unless(self, user, *, allowed: bool) -> bool:
        """Close with a documented code unless the user is signed in and allowed."""
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return True
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return True
        return False

    async def relay(self, event: dict[str, Any]) -> None:
        """Everything services send with config.realtime arrives here."""
        self.activate_language()
        if event.get("skip_channel") != self.channel_name:
            try:
                await self.forward(event["frame"])
            except DatabaseError:
                # A gap-filling read failed; the next ping's catch-up sends it.
                logger.exception("database unavailable while relaying")

    async def forward(self, frame: dict[str, Any]) -> None:
        await self.send_frame(frame)

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.send_frame({"type": "pong"})
