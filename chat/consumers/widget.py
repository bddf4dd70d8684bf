"""`/ws/widget/`: the shop widget of a customer (docs/protocol.md, "Widget")."""

import asyncio
import functools
import logging
import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host
from django.utils import translation
from django.utils.translation import gettext as _

from chat import protocol, selectors, services
from chat.consumers.base import ChatSocket, QueuePositions, current_versions
from chat.models import Visitor
from chat.strings import widget_strings
from community.selectors import application_invite
from config.client_ip import client_ip_from_scope, ip_bucket
from config.errors import ServiceError
from config.limits import RateLimited, limit_retry_after
from realtime import broadcast
from realtime.broadcast import database_call
from realtime.frames import error_frame
from realtime.sockets import CLOSE_FLOODING, supported_language
from sales import services as sales_services

logger = logging.getLogger(__name__)


def client_network(scope: dict) -> str:
    """The client's IPv4 address or IPv6 /64, "" when the server cannot know it
    (a unix socket with no TRUSTED_PROXIES): one shared bucket would lock everyone out."""
    network = ip_bucket(client_ip_from_scope(scope))
    if network == "unknown":
        _warn_unknown_network()
        return ""
    return network


def site_url(scope: dict) -> str:
    """Where links in mails point: SITE_URL, else this socket's own host if it is
    one of ALLOWED_HOSTS (a forged Host header must not put its link in our mail)."""
    if settings.SITE_URL:
        return settings.SITE_URL
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin1")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        raise ServiceError("unavailable", _("Email cannot be sent from here right now."))
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    return f"{scheme}://{host}"


@functools.cache
def _warn_unknown_network() -> None:
    logger.warning("client address unknown (set TRUSTED_PROXIES): per-network limits are off")


class WidgetConsumer(ChatSocket):
    """The customer's widget. The first frame is `hello` with the visitor token."""

    frames = protocol.CUSTOMER_FRAMES
    side = "customer"
    for_customer = True

    async def connect(self) -> None:
        self.visitor: Visitor | None = None
        self.greeted = False
        self.widget_ref: str | None = None  # set by `widget.open`
        self.language = settings.LANGUAGE_CODE  # until `hello` says otherwise
        self.network = client_network(self.scope)
        await super().connect()
        if self.network:
            # Off the database thread: the shared cache answers in well under a millisecond.
            retry_after = await asyncio.to_thread(limit_retry_after, "widget.socket", self.network)
            if retry_after is not None:
                self.activate_language()
                refusal = RateLimited(retry_after)
                await self.send_frame(error_frame(refusal, ref="connect"))
                await self.close(code=CLOSE_FLOODING)

    def participant(self) -> dict[str, Any]:
        return {"visitor": self.visitor}

    async def check_ready(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind in ("hello", "ping"):
            return
        if not self.greeted:
            raise ServiceError("hello_required", _("Say hello with your visitor token first."))
        if self.visitor is None and kind not in ("chat.start", "offline.send", "widget.open"):
            raise ServiceError("not_found", _("This chat does not exist or is not yours."))

    async def identify(self, visitor: Visitor) -> None:
        self.visitor = visitor
        await self.join(broadcast.visitor_group(visitor.pk))

    async def ensure_visitor(self) -> Visitor:
        """Visitors are created on their first chat or offline message, not on page views."""
        if self.visitor is None:
            visitor = await services.visitor_create_live(network=self.network)
            await self.identify(visitor)
            await self.send_frame(
                protocol.Identity(type="identity", token=selectors.visitor_token(visitor))
            )
        return self.visitor

    async def on_hello(self, frame: dict[str, Any]) -> None:
        self.language = supported_language(frame.get("lang"))
        translation.activate(self.language)
        await self.join(broadcast.WIDGETS)
        # A first-time shopper (no token) has nothing of their own to read.
        token = frame.get("token")
        returning = await database_call(self.returning_visitor, token) if token else {}
        if token and self.visitor is None:
            await self.close(code=protocol.CLOSE_VISITOR_TOKEN_REFUSED)
            return
        (
            experts_on_shift,
            availability_version,
            next_expert,
        ) = await selectors.welcome_availability_live()
        self.greeted = True
        if self.visitor is not None:
            await self.identify(self.visitor)
        await self.send_frame(
            protocol.WidgetWelcome(
                type="welcome",
                token=returning.get("token"),
                visitor=returning.get("visitor"),
                conversation=returning.get("conversation"),
                follow_ups=returning.get("follow_ups", []),
                experts_on_shift=experts_on_shift,
                availability_version=availability_version,
                # The widget words it in the customer's own time zone.
                next_expert_at=next_expert.isoformat() if next_expert else None,
                language=self.language,
                max_message_length=protocol.MESSAGE_BODY.max_length,
                strings=widget_strings(),
            )
        )

    def returning_visitor(self, token: str) -> dict[str, Any]:
        """What `welcome` tells a returning visitor about themselves, if the token holds."""
        self.visitor = visitor = selectors.visitor_from_token(token)
        if visitor is None:
            return {}
        conversation = selectors.visitor_current_conversation(visitor=visitor)
        return {
            "token": selectors.visitor_token(visitor),
            "visitor": {"name": visitor.name, "email": visitor.email},
            "conversation": selectors.conversation_data(conversation) if conversation else None,
            "follow_ups": selectors.visitor_follow_ups(visitor=visitor),
        }

    async def forward(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "visitor.revoked":  # erased while this widget was open
            await self.close(code=protocol.CLOSE_VISITOR_TOKEN_REFUSED)
            return
        if frame["type"] == "queue.changed":
            QueuePositions.here().changed()
            return
        if frame["type"] == "conversation" and frame["conversation"]["status"] != "waiting":
            await self.stop_waiting()
        await super().forward(frame)

    async def send_queue_position(self, conversation_id: int) -> None:
        """Its place now, and from here on whenever the queue moves."""
        for frame in await database_call(selectors.queue_frames):
            if frame["conversation"] == conversation_id:
                await self.send_frame(frame)
                QueuePositions.here().watch(conversation_id, self)
                await self.join(broadcast.QUEUE)

    async def send_queue_frame(self, frame: dict[str, Any]) -> None:
        try:
            await self.send_frame(frame)
        except Exception:  # closed meanwhile
            await self.stop_waiting()

    async def stop_waiting(self) -> None:
        QueuePositions.here().forget(self)
        if broadcast.QUEUE in self.joined_groups:
            await self.leave(broadcast.QUEUE)

    async def disconnect(self, code: int) -> None:
        QueuePositions.here().forget(self)

    async def on_resume(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.customer_presence_mark,
            visitor=self.visitor,
            conversation_ids=[frame["conversation"]],
        )
        await super().on_resume(frame)
        await self.send_queue_position(frame["conversation"])
        await self.send_expert_presence(frame["conversation"])

    async def send_expert_presence(self, conversation_id: int) -> None:
        """Only news is sent: an active chat's expert is online unless said otherwise."""
        expert_id = await database_call(
            selectors.active_conversation_expert_id, conversation_id=conversation_id
        )
        if expert_id and not await database_call(selectors.expert_is_online, expert_id=expert_id):
            await self.send_frame(
                protocol.ExpertPresence(
                    type="expert.presence", conversation=conversation_id, online=False
                )
            )

    async def on_ping(self, frame: dict[str, Any]) -> None:
        versions: dict[int, int] = {}
        if self.visitor is not None and self.followed:
            versions = await services.customer_presence_mark_live(
                visitor=self.visitor, conversation_ids=list(self.followed)
            )
        await self.send_newer_state(frame, versions)
        await super().on_ping(frame)

    async def send_newer_state(self, ping: dict[str, Any], versions: dict[int, int]) -> None:
        """A ping carries the versions the widget shows; what changed since (a frame
        the channel layer lost) comes as a fresh snapshot before the pong."""
        current = await current_versions()
        experts_on_shift, version = current["availability"]
        if ping.get("availability_version", version) < version:
            await self.send_frame(
                protocol.Availability(
                    type="availability", experts_on_shift=experts_on_shift, version=version
                )
            )
        conversation_id = ping.get("conversation")
        if conversation_id not in self.followed:
            return
        shown = ping.get("conversation_version")
        if shown is not None and versions.get(conversation_id, math.inf) > shown:
            await self.send_conversation(conversation_id, newer_than=shown)
        if ping.get("queue_version", current["queue"]) < current["queue"]:
            await self.send_queue_position(conversation_id)

    async def send_conversation(self, conversation_id: int, *, newer_than: int) -> None:
        conversation = await database_call(
            selectors.conversation_get, conversation_id=conversation_id
        )
        if conversation is not None and conversation.state_version > newer_than:
            await self.send_frame(
                protocol.ConversationFrame(
                    type="conversation", conversation=selectors.conversation_data(conversation)
                )
            )

    async def on_chat_start(self, frame: dict[str, Any]) -> None:
        visitor = await self.ensure_visitor()
        conversation = await services.conversation_start_live(
            visitor=visitor,
            topic=frame["topic"],
            name=frame.get("name", ""),
            email=frame.get("email", ""),
            network=self.network,
            language=self.language,
        )
        await self.send_frame(
            protocol.ConversationFrame(
                type="conversation", conversation=selectors.conversation_data(conversation)
            )
        )
        await self.follow(conversation.pk, 0)
        if conversation.status == conversation.Status.WAITING:
            await self.send_queue_position(conversation.pk)
        if self.widget_ref:
            await self.note_for_conversion(
                sales_services.widget_open_chat, ref=self.widget_ref, conversation=conversation
            )

    async def on_widget_open(self, frame: dict[str, Any]) -> None:
        """Noted once per socket here, once per shopper and day in the store; no reply."""
        if self.widget_ref is None:
            await self.note_for_conversion(
                sales_services.widget_open_note, ref=frame["ref"], network=self.network
            )
            self.widget_ref = frame["ref"]

    async def note_for_conversion(self, note: Callable[..., None], **kwargs: Any) -> None:
        """The conversion figures are best effort: a database hiccup loses one count,
        never shows the shopper an error, and never fails the chat that was started."""
        try:
            await database_call(note, **kwargs)
        except DatabaseError:
            logger.warning("could not note %s", note.__name__, exc_info=True)

    async def on_chat_leave(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.conversation_leave, conversation_id=frame["conversation"], visitor=self.visitor
        )

    async def on_page_view(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.conversation_page_note,
            conversation_id=frame["conversation"],
            visitor=self.visitor,
            url=frame["url"],
            title=frame.get("title", ""),
            product=frame.get("product", ""),
        )

    async def on_chat_rate(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.conversation_rate,
            conversation_id=frame["conversation"],
            visitor=self.visitor,
            rating=frame["rating"],
            comment=frame.get("comment", ""),
        )

    async def on_transcript_email(self, frame: dict[str, Any]) -> None:
        delivery = await database_call(
            services.transcript_email,
            conversation_id=frame["conversation"],
            visitor=self.visitor,
            network=self.network,
            site_url=site_url(self.scope),
        )
        await self.send_frame(
            protocol.TranscriptSent(
                type="transcript.sent",
                conversation=frame["conversation"],
                email=delivery.email,
                confirmation_needed=delivery.sent_at is None,
            )
        )

    async def on_offline_send(self, frame: dict[str, Any]) -> None:
        visitor = await self.ensure_visitor()
        await database_call(
            services.offline_message_leave,
            visitor=visitor,
            name=frame.get("name", ""),
            email=frame["email"],
            body=frame["body"],
            network=self.network,
        )
        await self.send_frame(protocol.OfflineSent(type="offline.sent"))

    async def on_message_report(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.message_report,
            conversation_id=frame["conversation"],
            seq=frame["seq"],
            visitor=self.visitor,
            reason=frame.get("reason", ""),
        )
        await self.send_frame(
            protocol.MessageReported(
                type="message.reported", conversation=frame["conversation"], seq=frame["seq"]
            )
        )

    async def on_followup_seen(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.followup_mark_seen, follow_up_id=frame["follow_up"], visitor=self.visitor
        )

    async def on_apply_invite(self, frame: dict[str, Any]) -> None:
        invite = await database_call(
            application_invite, conversation_id=frame["conversation"], visitor=self.visitor
        )
        await self.send_frame(
            protocol.ApplyInvite(
                type="apply.invite", conversation=frame["conversation"], invite=invite
            )
        )

    async def on_followup_dismiss(self, frame: dict[str, Any]) -> None:
        await database_call(
            services.followup_dismiss, follow_up_id=frame["follow_up"], visitor=self.visitor
        )
        await self.send_frame(
            protocol.FollowUpDismissed(type="followup.dismissed", follow_up=frame["follow_up"])
        )

    async def on_followup_helpful(self, frame: dict[str, Any]) -> None:
        follow_up = await database_call(
            services.followup_mark_helpful, follow_up_id=frame["follow_up"], visitor=self.visitor
        )
        data = await database_call(selectors.follow_up_data, follow_up)
        await self.send_frame(protocol.FollowUpFrame(type="followup", follow_up=data))
