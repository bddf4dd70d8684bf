"""Points for what happens in chats (chat/events.py); connected in points/apps.py."""

from django.dispatch import receiver

from chat import events
from points import services


@receiver(events.chat_resolved)
def _award_resolved_chat(sender, *, conversation, **kwargs) -> None:
    services.points_award_for_resolved_chat(conversation=conversation)


@receiver(events.chat_rated)
def _award_rating(sender, *, conversation, **kwargs) -> None:
    services.points_award_for_rating(conversation=conversation)


@receiver(events.follow_up_sent)
def _award_follow_up(sender, *, follow_up, **kwargs) -> None:
    services.points_award_for_follow_up(follow_up=follow_up)


@receiver(events.follow_up_found_helpful)
def _award_helpful_follow_up(sender, *, follow_up, **kwargs) -> None:
    services.points_award_for_helpful_follow_up(follow_up=follow_up)
