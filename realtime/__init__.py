"""The realtime platform under the apps: the base WebSocket consumer
(`sockets`), frame validation (`frames`), broadcasts after commit (`broadcast`),
the async database pool (`async_db`) and the patched channel layer
(`channel_layer`). It knows no app; the apps build on it."""
