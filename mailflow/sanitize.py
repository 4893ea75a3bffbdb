"""Strings made safe to store: no NUL or control characters, bounded length.

OCR text layers and hostile headers can carry NUL bytes, which PostgreSQL
refuses in text columns, and values longer than their column.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean(value: str | None, limit: int | None = None) -> str | None:
    if value is None:
        return None
    value = _CONTROL.sub("", value)
    return value[:limit] if limit else value
