"""realtime/autobahn_costs.py: a Daphne connection keeps its factory's options without
copying them, and autobahn's debug line is worked out only when it is written. If an
autobahn or Daphne upgrade stops honouring either, these fail."""

import pytest
from autobahn.websocket.protocol import Timings
from daphne.ws_protocol import WebSocketFactory
from twisted.internet.testing import StringTransport

from realtime.autobahn_costs import spare_autobahn_per_connection_costs


class Server:
    """Daphne's server, which a connection needs only once its handshake arrives."""


@pytest.fixture
def factory() -> WebSocketFactory:
    spare_autobahn_per_connection_costs()  # as config.asgi does
    factory = WebSocketFactory(Server)
    factory.setProtocolOptions(autoPingInterval=7, autoPingTimeout=11)
    return factory


def connect(factory: WebSocketFactory):
    connection = factory.buildProtocol(("127.0.0.1", 40000))
    connection.makeConnection(StringTransport())
    return connection


def test_a_connection_uses_its_factorys_options_without_a_copy_of_its_own(factory):
    connection = connect(factory)
    assert (connection.autoPingInterval, connection.autoPingTimeout) == (7, 11)
    assert not set(factory.protocol.CONFIG_ATTRS) & set(vars(connection))
    connection.autoPingInterval = 3  # one connection's own setting stays its own
    assert (connection.autoPingInterval, connect(factory).autoPingInterval) == (3, 7)


def test_the_options_are_still_printed_when_debug_logging_asks_for_them(factory):
    written = []
    connection = factory.buildProtocol(("127.0.0.1", 40000))
    connection.log.debug = lambda text, **fields: written.append(text.format(**fields))
    connection.makeConnection(StringTransport())
    assert any("('autoPingInterval', 7, " in line for line in written)
    assert str(Timings()) == "{}"  # autobahn's other use of pformat still gives text
