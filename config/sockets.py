"""The base of every WebSocket consumer: validated frames in, JSON frames out,
and whatever services broadcast relayed to the client."""

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from config.errors import ServiceError
from config.frames import FrameSpecs, error_frame, parse_frame

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class FrameSocket(AsyncWebsocketConsumer):
    frames: FrameSpecs = {}

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        frame: dict[str, Any] = {}
        try:
            frame = parse_frame(text_data, bytes_data, self.frames)
            await self.check_ready(frame)
            await getattr(self, "on_" + frame["type"].replace(".", "_"))(frame)
        except ServiceError as error:
            ref = frame.get("type") or getattr(error, "ref", None)
            await self.send_frame(error_frame(error, ref=ref))

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
        if event.get("skip_channel") != self.channel_name:
            await self.forward(event["frame"])

    async def forward(self, frame: dict[str, Any]) -> None:
        await self.send_frame(frame)

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.send_frame({"type": "pong"})
