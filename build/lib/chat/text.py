"""What people write, as it is stored and measured: messages, offline messages, follow-ups."""

import re
import unicodedata

# Embeddings, overrides and isolates: they can turn the text around them (and the
# lines after it in a transcript or a staff page) backwards. Marks (U+200E/F) stay.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_ZERO_WIDTH = "\u200b-\u200d\u2060\ufeff"
# C0 and C1 controls and DEL, but tab and newline.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"

_UNWANTED = re.compile(f"[{_CONTROLS}{_BIDI_CONTROLS}]")
_INVISIBLE = re.compile(rf"[\s\x00-\x1f\x7f-\x9f{_ZERO_WIDTH}{_BIDI_CONTROLS}]")


def normalized(text: str) -> str:
    """NFC, line breaks as "\\n", without NUL and other control characters (tab and
    newline stay) or bidi embedding/override/isolate controls; stripped."""
    text = _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", text).strip()


def visible_length(text: str) -> int:
    """Characters left after removing whitespace, zero-width characters
    (U+200B-U+200D, U+2060, U+FEFF), control characters and bidi controls."""
    return len(_INVISIBLE.sub("", text))
