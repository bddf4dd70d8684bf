"""Two costs that autobahn, the WebSocket library under Daphne, puts on every new
connection, which a process holding thousands of sockets need not pay
(docs/performance.md, "Handshakes" and "Memory per socket"):

- It pretty-prints the connection's 29 options for a debug line whether or not debug
  logging is on: 12% of a Daphne's CPU while widgets connected. The line is now
  worked out only when it is written.
- It copies those options from the factory into the connection's own attributes
  (about 1 KiB a socket) unless the connection's class has them; Daphne's class now
  has them, read from the factory that built the connection.

tests/test_autobahn_costs.py fails if an autobahn upgrade stops honouring either.
"""

from pprint import pformat
from typing import Any

from autobahn.websocket import protocol as autobahn_protocol
from daphne.ws_protocol import WebSocketProtocol


class _PrettyWhenWritten:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        return pformat(self.value)


class _FactoryOption:
    """The option of the factory that built the connection; one the connection sets
    itself goes to its own attributes, as before."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, connection: Any, owner: type | None = None) -> Any:
        if connection is None:
            return self
        return getattr(connection.factory, self.name)


def spare_autobahn_per_connection_costs() -> None:
    autobahn_protocol.pformat = _PrettyWhenWritten
    # Its one other use must still return text.
    autobahn_protocol.Timings.__str__ = lambda timings: pformat(timings._timings)
    for name in WebSocketProtocol.CONFIG_ATTRS:
        if not hasattr(WebSocketProtocol, name):
            setattr(WebSocketProtocol, name, _FactoryOption(name))
