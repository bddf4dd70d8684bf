"""The floor: a raw `websockets` relay with no framework and no channel layer, one process.

`python -m bench.raw_relay PORT`. `/ws/bench/relay/?group=NAME` relays each text frame to
every socket in the group NAME, the sender included, like bench/relay.py.
"""

import asyncio
import sys
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve

groups: dict[str, set[ServerConnection]] = defaultdict(set)


async def relay(ws: ServerConnection) -> None:
    group = groups[parse_qs(urlsplit(ws.request.path).query).get("group", ["default"])[0]]
    group.add(ws)
    try:
        async for text in ws:
            broadcast(group, text)
    finally:
        group.discard(ws)


async def main(port: int) -> None:
    async with serve(relay, "127.0.0.1", port, compression=None, ping_interval=None) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
