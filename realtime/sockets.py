"""The base of every WebSocket consumer: validated frames in, JSON frames out,
and whatever services broadcast relayed to the client."""

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import DatabaseError
from django.utils import translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config.errors import ServiceError
from config.logs import context_id, new_id
from realtime import async_db, broadcast, collector
from realtime.frames import FrameSpecs, Pong, error_frame, parse_frame

logger = logging.getLogger(__name__)

# Not signed in, or the session ended while connected (logout, password change,
# account deactivated or deleted, session expired).
CLOSE_UNAUTHENTICATED = 4401
# Signed in without the socket's right, or it was lost while connected (expert
# suspended, staff right removed).
CLOSE_FORBIDDEN = 4403
CLOSE_FLOODING = 4429
# The channel layer could not subscribe the socket (Redis down or restarting): it
# would hear nothing, so it closes at once and the client reconnects.
CLOSE_TRY_AGAIN_LATER = 1013


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


def session_user(session_key: str):
    """The active user the session still signs in, with the password it signed in
    with (as django.contrib.auth.get_user decides, without touching the session)."""
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    if SESSION_KEY not in data:
        return None
    user = get_user_model()._default_manager.filter(pk=data[SESSION_KEY], is_active=True).first()
    session_hash = data.get(HASH_SESSION_KEY) or ""
    if user is None or not any(
        constant_time_compare(session_hash, known)
        for known in (user.get_session_auth_hash(), *user.get_session_auth_fallback_hash())
    ):
        return None
    return user


@dataclass
class SignedIn:
    """What a signed-in socket was opened with, and when it was last found still so."""

    user_id: Any
    session_key: str
    holds_right: Callable[[Any], bool]  # runs in the database thread with a fresh user
    checked_at: float
    # The same right as an SQL condition on the user row `u`, if it can be one: then
    # the whole check is one statement on the event loop. As three reads in the one
    # database thread, the checks of busy consoles queued every other database call
    # of the process behind them (docs/performance.md, "Session checks").
    right_sql: str | None = None

    def standing(self) -> int | None:
        """None while session and right hold, else the close code that says which ended."""
        user = session_user(self.session_key)
        if user is None or user.pk != self.user_id:
            return CLOSE_UNAUTHENTICATED
        return None if self.holds_right(user) else CLOSE_FORBIDDEN

    async def standing_live(self) -> int | None:
        """`standing`, in one statement on the event loop where the database allows."""
        db_sessions = settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
        if self.right_sql is None or not db_sessions or not async_db.available():
            return await broadcast.database_call(self.standing)
        users = get_user_model()
        rows = await async_db.fetch(
            f"SELECT s.session_data, u.password, {self.right_sql}"
            f" FROM {Session._meta.db_table} s JOIN {users._meta.db_table} u"
            " ON u.id = %s AND u.is_active"
            " WHERE s.session_key = %s AND s.expire_date > now()",
            [self.user_id, self.session_key],
        )
        if not rows:  # session ended or expired, user deactivated or deleted
            return CLOSE_UNAUTHENTICATED
        session_data, password, holds_right = rows[0]
        data = SessionStore().decode(session_data)
        user = users(pk=self.user_id, password=password)
        if data.get(SESSION_KEY) != user._meta.pk.value_to_string(user) or not any(
            constant_time_compare(data.get(HASH_SESSION_KEY) or "", known)
            for known in (user.get_session_auth_hash(), *user.get_session_auth_fallback_hash())
        ):
            return CLOSE_UNAUTHENTICATED
        return None if holds_right else CLOSE_FORBIDDEN


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
    signed_in: SignedIn | None = None
    ended = False  # closed by us (flooding, a lost session or right): nothing more is handled
    accepted = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined_groups: set[str] = set()

    async def __call__(self, scope, receive, send) -> None:
        context_id.set(new_id("ws"))  # every log line of this socket carries it
        collector.SOCKETS.open += 1
        try:
            await super().__call__(scope, receive, send)
        except (RedisConnectionError, RedisTimeoutError):
            # Subscribing failed (at the handshake, or joining a group later): this was
            # an HTTP 500 or a dead socket. A clean close makes the client come back.
            logger.warning("channel layer unavailable; closing %s", scope.get("path"))
            if not self.accepted:
                await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
        finally:
            collector.SOCKETS.open -= 1

    async def accept(self, subprotocol: str | None = None, headers=None) -> None:
        self.accepted = True
        await super().accept(subprotocol, headers)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels hops to the database thread before every event to close stale
        # connections. Our database calls do that themselves (broadcast.database_call),
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
        self.ended = True
        await super().close(code=code, reason=reason)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.ended:  # frames that were on their way when we closed
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
            if not await self.still_signed_in():
                return
            frame = parse_frame(text_data, bytes_data, self.frames)
            await self.check_ready(frame)
            await getattr(self, "on_" + frame["type"].replace(".", "_"))(frame)
        except ServiceError as error:
            await self.send_frame(
                error_frame(
                    error,
                    ref=frame.get("type") or getattr(error, "ref", None),
                    client_id=frame.get("client_id"),
                    request_id=frame.get("id") or getattr(error, "request_id", None),
                )
            )
        except DatabaseError:
            # The transaction rolled back as a whole; the client may simply retry.
            logger.exception("database unavailable while handling %s", frame.get("type"))
            error = ServiceError("unavailable", _("We could not save that just now. Try again."))
            await self.send_frame(
                error_frame(
                    error,
                    ref=frame.get("type"),
                    client_id=frame.get("client_id"),
                    request_id=frame.get("id"),
                )
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

    async def keep_signed_in(
        self, user, *, holds_right: Callable[[Any], bool], right_sql: str | None = None
    ) -> None:
        """Live only as long as this session signs `user` in and they hold the right:
        checked before frames (at most every SOCKET_AUTH_RECHECK_SECONDS) and at once
        when the user's sockets are rung (broadcast.ring_user_sockets)."""
        self.signed_in = SignedIn(
            user_id=user.pk,
            session_key=self.scope["session"].session_key,
            holds_right=holds_right,
            checked_at=time.monotonic(),
            right_sql=right_sql,
        )
        await self.join(broadcast.user_group(user.pk))

    async def still_signed_in(self, *, now: bool = False) -> bool:
        """False, with the socket closed, once its session or right has ended."""
        signed_in = self.signed_in
        if signed_in is None:
            return True
        started = time.monotonic()
        if not now and started - signed_in.checked_at < settings.SOCKET_AUTH_RECHECK_SECONDS:
            return True
        signed_in.checked_at = -math.inf  # a check that fails is repeated before the next frame
        try:
            code = await signed_in.standing_live()
        except DatabaseError:
            # Unknown while the database is away: the frame's own handler needs it too
            # and answers `unavailable`; the check runs again before the next frame.
            return True
        if code is None:
            signed_in.checked_at = started
            return True
        await self.close(code=code)
        return False

    async def session_check(self, frame: dict[str, Any]) -> None:
        if self.signed_in is None:
            return
        if frame.get("ended") == broadcast.session_digest(self.signed_in.session_key):
            await self.close(code=CLOSE_UNAUTHENTICATED)
        else:
            await self.still_signed_in(now=True)

    async def relay(self, event: dict[str, Any]) -> None:
        """Everything services send with realtime.broadcast arrives here."""
        if self.ended:
            return
        self.activate_language()
        if event.get("skip_channel") != self.channel_name:
            try:
                frame = event["frame"]
                if frame["type"] == "session.check":  # for the server, never the client
                    await self.session_check(frame)
                else:
                    await self.forward(frame)
            except DatabaseError:
                # A gap-filling read failed; the next ping's catch-up sends it.
                logger.exception("database unavailable while relaying")

    async def forward(self, frame: dict[str, Any]) -> None:
        await self.send_frame(frame)

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.send_frame(Pong(type="pong"))
