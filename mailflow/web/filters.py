"""The journal's filter as the address bar carries it: read from a query string,
and written back into one (the dashboard's numbers link to their cases)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from ..case.search import Filter

MAX_NUMBERS = 500  # numbers=… in one address: a dashboard's short list, not a journal
_TEXT = ("journal", "kind", "channel", "unit", "state", "stage", "executor", "register")
_DATES = ("since", "until", "due_from", "due_by")
_YES = ("1", "true", "on")


def parse(
    params: Mapping[str, str], numbers: Sequence[str], *, now: dt.datetime, unproven_hours: float
) -> tuple[Filter, int]:
    """The filter and the page number of a query string (`numbers`: every `number=`);
    what cannot be read is left out, as a form's empty field is."""

    def date(key: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(params.get(key, ""))
        except ValueError:
            return None

    def whole(key: str) -> int | None:
        v = params.get(key, "")
        return int(v) if v.isdigit() and len(v) < 10 else None

    f = Filter(
        q=params.get("q", "")[:200],
        year=whole("year"),
        overdue=params.get("overdue") in _YES,
        needs_review=params.get("needs_review") in _YES,
        numbers=tuple(n[:64] for n in numbers[:MAX_NUMBERS] if n),
        unproven_before=(
            now - dt.timedelta(hours=unproven_hours) if params.get("unproven") in _YES else None
        ),
        **{k: params.get(k) or None for k in _TEXT},
        **{k: date(k) for k in _DATES},
    )
    return f, whole("page") or 1


def query(f: Filter) -> str:
    """The query string `parse` reads back as `f` (the unproven cutoff as `unproven=1`)."""
    pairs: list[tuple[str, str]] = []
    for field in dataclasses.fields(Filter):
        v = getattr(f, field.name)
        if field.name == "unproven_before":
            if v is not None:
                pairs.append(("unproven", "1"))
        elif field.name == "numbers":
            pairs += [("number", n) for n in v]
        elif v is True:
            pairs.append((field.name, "1"))
        elif v not in (None, "", False):
            pairs.append((field.name, v.isoformat() if isinstance(v, dt.date) else str(v)))
    return urlencode(pairs)


def journal_url(f: Filter | None) -> str | None:
    return None if f is None else "/?" + query(f)
