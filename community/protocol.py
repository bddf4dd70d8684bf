"""What the expert console's socket sends besides the chat's frames (docs/protocol.md)."""

from typing import Any, Literal, TypedDict


class ConsoleWelcome(TypedDict):
    type: Literal["welcome"]
    expert: dict[str, Any]
    on_shift: bool
    shift_version: int
    waiting: int
    max_concurrent_chats: int
    conversations: list[dict[str, Any]]
    max_message_length: int
    balance: int
    heartbeat_seconds: int
    saved_replies: list[dict[str, Any]]


class Shift(TypedDict):
    type: Literal["shift"]
    on_shift: bool
    version: int


class TransferTargets(TypedDict):
    type: Literal["transfer.targets"]
    experts: list[dict[str, Any]]


class Suspended(TypedDict):
    type: Literal["suspended"]
    since: str
    since_text: str
    contact: str


class ApplicationNew(TypedDict):
    """To staff: an application arrived."""

    type: Literal["application.new"]
    id: int
