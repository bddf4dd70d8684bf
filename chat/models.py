import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Visitor(models.Model):
    """A shopper, usually anonymous, known by the signed token the widget keeps."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=80, blank=True)
    email = models.EmailField(_("email"), blank=True)
    # The address this visitor proved is theirs (a link in a mail): only there do
    # transcripts go, so the widget cannot mail strangers.
    confirmed_email = models.EmailField(_("confirmed email"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Part of every token issued; raising it revokes them all (chat/selectors.py).
    token_generation = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")

    def __str__(self) -> str:
        return self.name or self.email or str(self.id)[:8]


class Conversation(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ACTIVE = "active", _("Active")
        RESOLVED = "resolved", _("Resolved")
        ABANDONED = "abandoned", _("Left before an expert joined")

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="conversations")
    topic = models.CharField(_("topic"), max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.WAITING)
    expert = models.ForeignKey(
        "community.Expert",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversations",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # FIFO key: a requeued chat keeps its place at the front.
    queued_at = models.DateTimeField(default=timezone.now)
    assigned_at = models.DateTimeField(null=True, blank=True)
    customer_left_at = models.DateTimeField(null=True, blank=True)
    # Where the chat was started from (an IPv4 address or an IPv6 /64): caps how many
    # chats one network may keep waiting.
    customer_network = models.CharField(max_length=64, blank=True, db_index=True)
    # The widget's language when the chat started ("en", "nl"; "" for chats from before
    # it was kept): the console words shared saved replies in it.
    language = models.CharField(max_length=16, blank=True)
    # Moved forward while the customer has the chat open in a widget; a chat whose
    # customer stays away leaves the queue (waiting) or is shown as gone (active).
    customer_seen_at = models.DateTimeField(default=timezone.now)
    customer_gone_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_summary = models.TextField(_("resolution summary"), blank=True)
    # Set when a staff member took the chat over from the expert.
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="taken_over_conversations",
    )
    last_seq = models.PositiveIntegerField(default=0)
    # Moves with every announced change of the chat (status, expert, customer gone):
    # screens keep the newest `conversation` frame, whatever order they arrive in.
    state_version = models.PositiveIntegerField(default=0)
    # The shop pages the customer looked at during the chat, oldest first, at most
    # PAGE_TRAIL_LENGTH of {url, title, product, at}: the URL and title only, and
    # only while a chat is open (chat/services/context.py).
    pages = models.JSONField(default=list, blank=True)
    customer_read_seq = models.PositiveIntegerField(default=0)
    expert_read_seq = models.PositiveIntegerField(default=0)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "queued_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="waiting") & Q(expert__isnull=True))
                | (Q(status="active") & (Q(expert__isnull=False) | Q(staff_member__isnull=False)))
                | Q(status__in=["resolved", "abandoned"]),
                name="conversation_expert_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="conversation_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.topic}"


class StateCounter(models.Model):
    """Versions of state that is not one row: moved after each change commits
    (chat.services.state_counter_bump), read in the same statement as the state."""

    QUEUE = "queue"

    name = models.CharField(primary_key=True, max_length=32)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Photo(models.Model):
    """A picture attached to a chat, as re-encoded by chat/photos.py: the upload itself
    is never kept, so nothing of its metadata (an EXIF location) is either. Shown by
    the message that carries it, through signed, expiring links (chat.views.photo)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="photos")
    # Names in storages["photos"] (settings.STORAGES), looked up when used.
    image = models.CharField(max_length=200)
    thumbnail = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"photo {self.pk} in #{self.conversation_id}"


class Message(models.Model):
    class Sender(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        EXPERT = "expert", _("Expert")
        STAFF = "staff", _("Staff")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    sender = models.CharField(max_length=10, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    body = models.TextField()
    # Staff notes to the expert only: never sent to the customer.
    whisper = models.BooleanField(default=False)
    # A product card an expert dropped in (catalog.selectors.product_card); `body`
    # then holds its name and address, for transcripts and anything that shows text.
    card = models.JSONField(null=True, blank=True)
    # A photo someone attached; `body` then says "[photo]", for transcripts.
    photo = models.OneToOneField(
        Photo, on_delete=models.SET_NULL, null=True, blank=True, related_name="message"
    )
    # Moderation: hidden from the customer and the transcript, kept for audit.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hidden_messages",
    )
    hidden_reason = models.CharField(max_length=300, blank=True)
    # System lines: what happened, worded per reader (chat/system_messages.py).
    system_event = models.CharField(max_length=20, blank=True)
    system_params = models.JSONField(default=dict, blank=True)
    # Chosen by the sending client so a retried send is stored once.
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["conversation", "sender", "client_id"],
                condition=~Q(client_id=""),
                name="message_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class FollowUp(models.Model):
    """Extra research or a better answer an expert sends after a chat."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="follow_ups"
    )
    expert = models.ForeignKey("community.Expert", on_delete=models.PROTECT)
    body = models.TextField(_("follow-up"))
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)
    marked_helpful_at = models.DateTimeField(null=True, blank=True)
    # The customer closed it in the widget; until then it stays there, seen or not.
    dismissed_at = models.DateTimeField(null=True, blank=True)
    # One per rendered form: a double click or a retried POST sends it once.
    request_key = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["expert", "request_key"], name="follow_up_request_once")
        ]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")

    def __str__(self) -> str:
        return f"follow-up on {self.conversation_id}"


# What erasure leaves in required email fields.
ERASED_EMAIL = "erased@invalid"


class OfflineMessage(models.Model):
    """Left from the widget when nobody is on shift."""

    visitor = models.ForeignKey(Visitor, on_delete=models.SET_NULL, null=True, blank=True)
    name = models.CharField(_("name"), max_length=80, blank=True)
    email = models.EmailField(_("email"))
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    # The expert who answers it: only they (and staff) see the address.
    claimed_by = models.ForeignKey(
        "community.Expert", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("offline message")
        verbose_name_plural = _("offline messages")

    def __str__(self) -> str:
        return f"{self.email}: {self.body[:40]}"


class TranscriptDelivery(models.Model):
    """A transcript asked for by email: at most one per chat and address, sent
    once the address is confirmed."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="transcript_deliveries"
    )
    email = models.EmailField(_("email"))
    requested_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "email"], name="one_transcript_per_chat_and_address"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id} → {self.email}"


class MessageReport(models.Model):
    """A customer flagged a message from the widget; staff review it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["message", "visitor"], name="report_once_per_visitor")
        ]

    def __str__(self) -> str:
        return f"report on {self.message}"
