"""UI text of the widget, translated on the server and sent in `welcome`,
so the embedded script carries no language tables of its own.

Placeholders in braces ({name}, {position}, ...) are filled in by the widget;
translations must keep them unchanged.
"""

from functools import cache

from django.utils.translation import get_language, override, pgettext
from django.utils.translation import gettext as _


def widget_strings() -> dict[str, str]:
    """In the active language; the same dict for every widget (do not change it)."""
    return _strings_in(get_language())


@cache  # about 60 lookups in every widget's hello: 8% of a handshake's event loop
def _strings_in(language: str | None) -> dict[str, str]:
    with override(language):
        return {
            # Launcher and panel frame
            "title": _("Ask a brand expert"),
            "subtitle": _("Real people who know our products."),
            "open": _("Chat with a brand expert"),
            "close": _("Minimise chat"),
            "reconnecting": _("Reconnecting…"),
            # Pre-chat form
            "intro": _(
                "Hi there! Ask our experts anything about our products. "
                "They usually reply within a few minutes."
            ),
            "topic_label": _("Your question"),
            "topic_placeholder": _("For example: which headphones are best for running?"),
            "name_label": _("Name (optional)"),
            "email_label": _("Email (optional)"),
            "email_hint": _("Only used to send you the transcript or a follow-up."),
            "start": _("Start chat"),
            # Waiting in the queue
            "queue_title": _("Finding an expert for you…"),
            "queue_position": _("You are number {position} in line"),
            "wait_estimate": _("Estimated wait: about {minutes} min"),
            "wait_unknown": _(
                "No expert is available right now. We'll connect you as soon as one starts."
            ),
            "leave_queue": _("Leave queue"),
            "waiting_placeholder": _("Add details while you wait…"),
            # Live chat
            "expert_role": _("Brand expert"),
            "expert_away": _("Lost the connection · your chat keeps its place"),
            "message_removed": _("Removed by the moderators"),
            "message_list": _("Conversation"),
            "composer_label": _("Message"),
            "composer_placeholder": _("Write a message…"),
            "send": _("Send"),
            "too_long": _("Your message is too long: {count} of at most {max} characters."),
            "typing": _("{name} is typing…"),
            "end_chat": _("End chat"),
            "sending": _("Sending…"),
            "sent": _("Sent"),
            "read": _("Read"),
            "not_sent": _("Not sent"),
            # Photos (the upload code, frontend/widget-photo.js, loads when one is picked)
            "attach": _("Add a photo"),
            "photo": _("Photo, opens full size"),
            "photo_sending": _("Sending your photo…"),
            "photo_failed": _("The photo could not be sent. Please try again."),
            # After the chat
            "ended": _("This chat has ended."),
            "left_queue": _("You left the queue."),
            "rate_title": _("How was your chat with {name}?"),
            "rate_star": _("{n} out of 5 stars"),
            "rate_comment": _("Anything you'd like to add? (optional)"),
            "rate_submit": _("Send rating"),
            "rate_thanks": _("Thanks for your feedback!"),
            "become_expert": _("Love our products? Become a brand expert →"),
            # A verb here; the audit log's "Report" is the noun (Dutch tells them apart).
            "report": pgettext("button that reports a message", "Report"),
            "reported": _("Reported, thank you"),
            "transcript_download": _("Download transcript"),
            "transcript_email": _("Email me the transcript"),
            "transcript_sent": _("The transcript is on its way to {email}."),
            "transcript_confirm": _(
                "We sent a link to {email}. Open it to confirm the address and receive "
                "the transcript."
            ),
            "transcript_failed": _("The transcript could not be downloaded. Please try again."),
            "new_chat": _("Start a new chat"),
            # Offline form
            "offline_title": _("Our experts are offline"),
            "offline_intro": _("Leave a message and an expert will get back to you by email."),
            "offline_email": _("Email"),
            "offline_message": _("Message"),
            "offline_send": _("Send message"),
            "offline_sent": _("Thanks! We'll reply to {email} as soon as we can."),
            "offline_again": _("Send another message"),
            # {when} is welcome.next_expert_at, shown in the customer's own time zone
            "next_expert": _("The next expert is expected on {when} (your time)."),
            # Follow-ups from an expert after a chat
            "followup_title": _("{name} followed up"),
            "followup_about": _("About: {topic}"),
            "followup_helpful": _("This helped"),
            "followup_thanks": _("Thanks! We'll let {name} know."),
            "dismiss": _("Dismiss"),
        }
