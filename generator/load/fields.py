"""Validators shared by the roster and brand schemas."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def iana_timezone(value: str) -> str:
    """An IANA time zone name such as Europe/London (a ValueError for pydantic otherwise)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                         "Europe/London)") from None
    return value
