"""Writes of the chat: starting chats, the FIFO queue, messages, closing and rating.

Routing changes (assign, resolve, transfer, requeue) run under one routing
lock per database, so the queue is served strictly first come, first served;
the CHECK on Expert.open_chat_count is the last line that keeps the cap.

One module per job; the public service functions are imported here so callers
write `from chat import services` and `services.conversation_start(...)`.
"""

from chat.services._shared import (  # noqa: F401
    announce_availability,
    queue_drain,
    state_counter_bump,
)
from chat.services.context import conversation_page_note  # noqa: F401
from chat.services.followups import (  # noqa: F401
    followup_dismiss,
    followup_mark_helpful,
    followup_mark_seen,
    followup_send,
    offline_message_claim,
    offline_message_leave,
    offline_message_mark_answered,
)
from chat.services.messages import (  # noqa: F401
    conversation_mark_read,
    conversation_mark_read_live,
    ephemeral_relay,
    message_post,
    message_post_live,
)
from chat.services.moderation import (  # noqa: F401
    conversation_close_by_staff,
    conversation_take_over,
    message_hide,
    message_report,
    message_report_dismiss,
    staff_whisper,
)
from chat.services.photos import photo_post  # noqa: F401
from chat.services.privacy import (  # noqa: F401
    transcript_confirm,
    transcript_email,
    visitor_erase,
)
from chat.services.routing import (  # noqa: F401
    absent_experts_requeue,
    announce_expert_presence,
    conversation_leave,
    conversation_rate,
    conversation_resolve,
    conversation_start,
    conversation_start_live,
    conversation_transfer,
    customer_presence_mark,
    customer_presence_mark_live,
    customers_away_sweep,
    expert_chats_requeue,
    unserved_starts_drain,
    visitor_create,
    visitor_create_live,
)
