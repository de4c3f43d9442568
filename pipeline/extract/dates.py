"""Date expressions normalised against the article's publication date.

``normalize_date("Friday (June 30)", date(2023, 7, 3)) == "2023-06-30"``: an explicit day and month
beat a weekday; a weekday is the last such day on or before publication (the next one for future
clauses); "yesterday", "last week", "three days ago" count back from publication. Anything vaguer
(a month, a year, "recently") gives None: an event never silently gets the publication date.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
          "oct": 10, "nov": 11, "dec": 12}
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10}
_MONTH = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?" \
         r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_MONTH_DAY = re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{4}))?", re.I)
_DAY_MONTH = re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(?P<year>\d{4}))?",
                        re.I)
_WEEKDAY = re.compile(r"\b(?:(?P<rel>last|next|this|on|past)\s+)?(?P<wd>monday|tuesday|wednesday|thursday|friday"
                      r"|saturday|sunday)\b", re.I)
_AGO = re.compile(r"\b(?P<n>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?P<unit>day|week)s?\s+ago\b",
                  re.I)
_RELATIVE = {"yesterday": -1, "today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0,
             "this evening": 0, "tomorrow": 1, "last week": -7, "a week ago": -7, "last weekend": None,
             "the day before yesterday": -2}


def _ymd(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _month_day(text: str, published: date | None) -> date | None:
    for rx in (_MONTH_DAY, _DAY_MONTH):
        m = rx.search(text)
        if not m:
            continue
        month = MONTHS[m.group("mon").lower()[:3]]
        day = int(m.group("day"))
        if m.group("year"):
            return _ymd(int(m.group("year")), month, day)
        if published is None:
            return None
        d = _ymd(published.year, month, day)
        if d and d > published + timedelta(days=61):  # "December 30" in a January article
            d = _ymd(published.year - 1, month, day)
        return d
    return None


def normalize_date(text: str, published: date | None, *, future: bool = False) -> str | None:
    """YYYY-MM-DD for a date expression, or None when it does not name one day."""
    t = " ".join(text.replace("(", " ").replace(")", " ").split())
    m = _ISO.search(t)
    if m:
        d = _ymd(int(m.group("y")), int(m.group("m")), int(m.group("d")))
        return d.isoformat() if d else None
    d = _month_day(t, published)
    if d:
        return d.isoformat()
    if published is None:
        return None
    low = t.lower()
    for phrase, delta in sorted(_RELATIVE.items(), key=lambda kv: -len(kv[0])):
        if re.search(r"\b" + phrase + r"\b", low):
            return None if delta is None else (published + timedelta(days=delta)).isoformat()
    m = _AGO.search(low)
    if m:
        n = int(m.group("n")) if m.group("n").isdigit() else NUMBERS[m.group("n")]
        days = n * (7 if m.group("unit") == "week" else 1)
        return (published - timedelta(days=days)).isoformat()
    m = _WEEKDAY.search(low)
    if m:
        wd, rel = WEEKDAYS[m.group("wd")], (m.group("rel") or "")
        if rel == "next" or (future and rel != "last"):
            ahead = (wd - published.weekday()) % 7 or 7
            return (published + timedelta(days=ahead)).isoformat()
        back = (published.weekday() - wd) % 7
        if rel in ("last", "past") and back == 0:
            back = 7
        return (published - timedelta(days=back)).isoformat()
    return None
