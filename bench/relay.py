"""The bare Channels baseline: a relay with no database, no auth, no validation.

`/ws/bench/relay/?group=NAME` joins the group NAME and relays each text frame
to everyone in it (the sender included), exactly like the product's doorbell
path minus everything the product does around it. It is served by its own app,
bench/baseline/, never by the product's.
"""

from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer


class RelayConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        query = parse_qs(self.scope["query_string"].decode())
        self.group = "bench." + query.get("group", ["default"])[0]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is not None:
            await self.channel_layer.group_send(self.group, {"type": "relay", "text": text_data})

    async def relay(self, event: dict) -> None:
        await self.send(text_data=event["text"])
