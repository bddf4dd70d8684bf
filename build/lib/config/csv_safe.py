"""CSV exports that spreadsheet apps cannot be tricked into running.

A cell that starts with = + - @, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets; a text cell like that gets a leading single
quote, which they show as plain text. Every CSV the product exports goes through here.
"""

import csv
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that could run as a formula, neutralised; numbers and the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` whose every cell passes through `safe_cell`."""

    def __init__(self, stream) -> None:
        self.writer = csv.writer(stream)

    def writerow(self, row) -> None:
        self.writer.writerow([safe_cell(value) for value in row])
