"""What the reward shop sends on the expert and staff sockets (docs/protocol.md)."""

from typing import Any, Literal, TypedDict


class Stock(TypedDict):
    type: Literal["stock"]
    product: int
    stock: int | None


class RedemptionFrame(TypedDict):
    type: Literal["redemption"]
    redemption: dict[str, Any]
