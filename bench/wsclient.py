"""A minimal asyncio WebSocket client (RFC 6455), enough for the benchmarks.

Text frames only, client frames masked, no extensions; answers pings and
collects close codes. Kept dependency-free so the bench needs nothing beyond
the product's own requirements.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import struct
from typing import Any

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class HandshakeError(Exception):
    pass


class ConnectionClosed(Exception):
    def __init__(self, code: int | None) -> None:
        super().__init__(f"closed with {code}")
        self.code = code


class WebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.close_code: int | None = None
        self.ping_every = 20.0  # seconds, as the widget pings

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        path: str,
        *,
        origin: str,
        cookie: str = "",
        forwarded_for: str = "",
        timeout: float = 30,
    ) -> WebSocket:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        headers = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            f"Origin: {origin}",
        ]
        if cookie:
            headers.append(f"Cookie: {cookie}")
        if forwarded_for:  # the client's address, as the product's proxy would say it
            headers.append(f"X-Forwarded-For: {forwarded_for}")
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode())
        try:
            response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except Exception:
            writer.close()
            raise
        status = response.split(b"\r\n", 1)[0]
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())  # noqa: S324
        if b" 101 " not in status or accept not in response:
            writer.close()
            raise HandshakeError(status.decode(errors="replace"))
        return cls(reader, writer)

    def _write_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        # XOR via big ints: far faster in CPython than a byte-by-byte loop.
        repeated = (mask * (length // 4 + 1))[:length]
        masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
            length, "big"
        )
        self.writer.write(header + mask + masked)

    async def send(self, frame: dict[str, Any]) -> None:
        self._write_frame(TEXT, json.dumps(frame, separators=(",", ":")).encode())
        await self.writer.drain()

    async def recv(self) -> dict[str, Any]:
        """The next text frame as JSON; control frames are handled on the way."""
        while True:
            first, second = await self.reader.readexactly(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(length)  # servers never mask
            if opcode == PING:
                self._write_frame(PONG, payload)
            elif opcode == CLOSE:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.writer.close()
                raise ConnectionClosed(self.close_code)
            elif opcode == TEXT or opcode == 0x0:  # Daphne never fragments small frames
                return json.loads(payload)

    async def recv_until(self, kind: str, timeout: float = 30) -> dict[str, Any]:
        """Skip frames until one of type `kind` arrives."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv()
                if frame.get("type") == kind:
                    return frame

    async def close(self) -> None:
        if self.writer.is_closing():
            return
        try:
            self._write_frame(CLOSE, struct.pack("!H", 1000))
            await asyncio.wait_for(self.writer.drain(), 2)
        except (OSError, TimeoutError):
            pass
        self.writer.close()
