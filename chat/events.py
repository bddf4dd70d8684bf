"""What happened in a chat, for the apps built on it: points and sales listen
(their apps.py) and chat knows nothing of them.

Each signal is sent inside the transaction that made the change, so what a receiver
writes commits or rolls back with it: no point without its chat, and no chat change
that lost its point.
"""

from django.dispatch import Signal

chat_resolved = Signal()  # conversation=
chat_rated = Signal()  # conversation=
follow_up_sent = Signal()  # follow_up=
follow_up_found_helpful = Signal()  # follow_up=
customer_erased = Signal()  # conversation_ids=  (right to erasure)
