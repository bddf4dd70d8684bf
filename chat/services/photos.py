"""Photos in chats: a checked, re-encoded picture (chat/photos.py) stored through the
storage API and shown by a message of its own, replayed like any message."""

from typing import IO
from uuid import uuid4

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction

from chat import photos
from chat.models import Message, Photo, Visitor
from chat.services._shared import _announce_message
from chat.services.messages import (
    _check_open,
    _new_message,
    _refuse_message,
    _store_with_next_seq,
)
from community.models import Expert
from config.limits import enforce_limit

# What transcripts, exports and anything else that shows text say for a photo.
PHOTO_BODY = "[photo]"


def _count_upload(
    *, visitor: Visitor | None, expert: Expert | None, staff_member, network: str
) -> None:
    """Every attempt counts, refused or not: decoding images is the costly part."""
    if expert is not None:
        enforce_limit("expert.photo", str(expert.pk))
        return
    if staff_member is not None:
        enforce_limit("staff.photo", str(staff_member.pk))
        return
    enforce_limit("visitor.photo", str(visitor.pk))
    if network:
        enforce_limit("widget.photo", network)


def photo_post(
    *,
    conversation_id: int,
    upload: IO[bytes],
    client_id: str,
    visitor: Visitor | None = None,
    expert: Expert | None = None,
    staff_member=None,
    network: str = "",
) -> tuple[Message, bool]:
    """Attach a photo to an open chat as the customer, its expert or the staff member
    who took it over; returns (message, created). A retry with the same client_id
    returns the stored message.

    The chat is checked before the photo is decoded, and again when the message is
    numbered; files of a photo that did not make it into the chat are deleted.
    """
    participant = {"visitor": visitor, "expert": expert, "staff_member": staff_member}
    _count_upload(visitor=visitor, expert=expert, staff_member=staff_member, network=network)
    _check_open(conversation_id=conversation_id, **participant)
    message, open_to, author = _new_message(
        conversation_id=conversation_id, body=PHOTO_BODY, client_id=client_id, **participant
    )
    if stored := _stored_retry(message):
        return stored, False
    processed = photos.process(upload)
    storage, name = storages["photos"], f"{conversation_id}/{uuid4().hex}"
    photo = Photo(
        conversation_id=conversation_id,
        image=storage.save(f"{name}.jpg", ContentFile(processed.image)),
        thumbnail=storage.save(f"{name}-thumbnail.jpg", ContentFile(processed.thumbnail)),
    )
    try:
        with transaction.atomic():
            photo.save()
            message.photo = photo
            if not _store_with_next_seq(message, open_to=open_to):
                _refuse_message(conversation_id=conversation_id, **participant)
            _announce_message(message, author=author)
    except IntegrityError:
        # The unique client_id: the same upload, stored by a retry that overtook it.
        photo_files_delete(photo)
        if stored := _stored_retry(message):
            return stored, False
        raise
    except BaseException:
        photo_files_delete(photo)
        raise
    return message, True


def _stored_retry(message: Message) -> Message | None:
    """The message an earlier try of this upload stored (same sender and client_id)."""
    return Message.objects.filter(
        conversation_id=message.conversation_id, sender=message.sender, client_id=message.client_id
    ).first()


def photo_files_delete(photo: Photo) -> None:
    for name in (photo.image, photo.thumbnail):
        storages["photos"].delete(name)
