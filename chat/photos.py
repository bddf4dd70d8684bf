"""Photos attached to chats, checked and re-encoded with Pillow.

Whatever arrives (a JPEG, PNG, WebP or an iPhone's HEIC) is decoded and written
anew as a JPEG: what is stored is an image whatever its name said, and nothing of
the upload's metadata (EXIF with the place a photo was taken, comments, colour
profiles) survives, because none of it is passed to the encoder.
"""

from dataclasses import dataclass
from io import BytesIO
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from config.errors import ServiceError

register_heif_opener()

# The decoders Pillow may try: anything else (GIF, PSD, SVG, a text file) is refused.
FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
JPEG_QUALITY = 85


@dataclass(frozen=True)
class Processed:
    image: bytes
    thumbnail: bytes


def not_an_image() -> ServiceError:
    return ServiceError("not_an_image", _("This file is not a JPEG, PNG, WebP or HEIC photo."))


def process(upload: IO[bytes]) -> Processed:
    """The photo at most CHAT_PHOTO_MAX_SIDE pixels on its long side, upright (its EXIF
    orientation applied), on white where it was transparent, and its thumbnail."""
    try:
        with Image.open(upload, formats=FORMATS) as source:
            # Only the header is read so far: a small file that would unpack into
            # gigabytes of pixels (a decompression bomb) stops here.
            if source.width * source.height > settings.CHAT_PHOTO_MAX_PIXELS:
                raise ServiceError(
                    "too_many_pixels",
                    _("This photo has too many pixels. Send one of at most %(mp)d megapixels.")
                    % {"mp": settings.CHAT_PHOTO_MAX_PIXELS // 1_000_000},
                )
            side = settings.CHAT_PHOTO_MAX_SIDE
            source.draft("RGB", (side, side))  # JPEG: decode at a smaller scale, faster
            image = _opaque(ImageOps.exif_transpose(source))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        # Not one of FORMATS, or truncated or corrupt past its header.
        raise not_an_image() from None
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    thumbnail = image.copy()
    thumbnail_side = settings.CHAT_PHOTO_THUMBNAIL_SIDE
    thumbnail.thumbnail((thumbnail_side, thumbnail_side), Image.Resampling.LANCZOS)
    return Processed(image=_jpeg(image), thumbnail=_jpeg(thumbnail))


def _opaque(image: Image.Image) -> Image.Image:
    """RGB, with transparent parts on white (a JPEG has no transparency)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
        return image
    return image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    """Only pixels: no exif, icc_profile or comment is given, so none is written."""
    out = BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()
