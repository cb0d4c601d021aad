"""Dates in order notes: ``deliver_by`` and ``hold_until``, resolved against the order's ``created_at``.

A date is only taken when a cue says what it means: "by / until / bis / spätestens / avant / para"
give ``deliver_by``, "not before / hold until / nach dem / erst ab / pas avant / no antes de" give
``hold_until``. Hold cues are matched first because they often contain a deliver cue ("not *before*").

Semantics (the corpus builder computes expected dates from the same rules, independently):

- weekday ("Friday", "Freitag", "vendredi"): the next such day strictly after the order date;
- day of month ("the 12th", "dem 12.", "le 12"): this month if not yet past, else next month;
- "tomorrow" +1, "in N days/weeks" +N days/weeks, "next week" the Monday of next week,
  "end of the month" its last day, "Christmas" 25 December (next one);
- "before X" / "vor X" / "avant X" mean X minus one day; "after X" / "nach X" mean X plus one day;
- absolute dates: ISO, ``12.05.2026``, ``12.05.``, ``12 May``, ``May 12th``, ``12. Mai`` ...; slashed
  numbers are month/day in English notes (unless the first number exceeds 12), day/month otherwise.

What the rules leave over goes to ``dateparser`` with ``RELATIVE_BASE`` set to the order time and
``PREFER_DATES_FROM="future"``, so the result depends only on the note and ``created_at``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import dateparser

_MONTHS = {
    **{m: i for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december"], 1)},
    **{m: i for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)},
    "sept": 9,
    **{m: i for i, m in enumerate(
        ["januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
         "november", "dezember"], 1)},
    "maerz": 3, "mrz": 3, "okt": 10, "dez": 12, "jänner": 1,
    **{m: i for i, m in enumerate(
        ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
         "novembre", "décembre"], 1)},
    "fevrier": 2, "aout": 8, "decembre": 12,
    **{m: i for i, m in enumerate(
        ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"], 1)},
}
_WEEKDAYS = {
    **{d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])},
    **{d: i for i, d in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])},
    "tues": 1, "thur": 3, "thurs": 3,
    **{d: i for i, d in enumerate(["montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag"])},
    "sonnabend": 5,
    **{d: i for i, d in enumerate(["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"])},
    **{d: i for i, d in enumerate(["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"])},
    "miercoles": 2, "sabado": 5,
}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10,
    "ein": 1, "einem": 1, "einer": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "zehn": 10,
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5,
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
}
_DAY_UNITS = {"day": 1, "days": 1, "tag": 1, "tage": 1, "tagen": 1, "jour": 1, "jours": 1, "día": 1, "días": 1,
              "dia": 1, "dias": 1, "week": 7, "weeks": 7, "woche": 7, "wochen": 7, "semaine": 7, "semaines": 7,
              "semana": 7, "semanas": 7}


def _alt(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_MONTH_RE = _alt(_MONTHS) + r"\.?"
_WEEKDAY_RE = r"(?:" + _alt(_WEEKDAYS) + r")\b\.?"
_NUM_RE = r"(?:\d{1,2}|" + _alt(_NUMBER_WORDS) + r")"
_UNIT_RE = _alt(_DAY_UNITS)
_HOLIDAY_RE = (r"christmas(?: eve| day)?|xmas|x-mas|weihnachten|heiligabend|heiligen abend|no[eë]l|navidad"
               r"|nochebuena|new year'?s?(?: eve| day)?|silvester|neujahr|valentine'?s(?: day)?|valentinstag")

# One date expression, in any of the supported shapes; the resolver decides what it means.
DATE_EXPR = (
    r"(?:"
    r"\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}[./]\d{1,2}(?:[./](?:\d{4}|\d{2}))?\.?"
    r"|(?:the\s+)?\d{1,2}(?:st|nd|rd|th|\.|er|º)?\s+(?:of\s+|de\s+)?(?:" + _MONTH_RE + r")(?:\s+(?:de\s+)?\d{4})?"
    r"|(?:" + _MONTH_RE + r")\s+\d{1,2}(?:st|nd|rd|th)?\b(?:,?\s+\d{4})?"
    r"|(?:(?:next|this|coming|nächsten|nächster|kommenden|diesen|ce|este|el|le|am|on)\s+)?" + _WEEKDAY_RE +
    r"(?:\s+(?:prochain|que viene|próximo))?"
    r"|(?:the\s+|dem\s+|den\s+|le\s+|el\s+(?:día\s+)?)?\d{1,2}(?:st|nd|rd|th|\.|er)(?!\d)"
    r"|(?:dem|den|le|el)\s+\d{1,2}\b(?![./]\d)"
    r"|day after tomorrow|tomorrow|tmrw|übermorgen|morgen|après-demain|demain|pasado mañana|mañana"
    r"|(?:the\s+)?(?:next|following)\s+week|nächste[rn]?\s+woche|kommende[rn]?\s+woche|la\s+semaine\s+prochaine"
    r"|(?:la\s+)?próxima\s+semana|la\s+semana\s+que\s+viene"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+)?(?:this\s+|next\s+)?(?:month|week)|ende\s+(?:des|dieses|nächsten)\s+monats"
    r"|monatsende|ende\s+(?:der|dieser|nächster)\s+woche|(?:la\s+)?fin\s+(?:du|de\s+ce)\s+mois|(?:el\s+)?fin\s+de\s+mes"
    r"|(?:in|within|innerhalb\s+von|innerhalb|dans|en|d'ici)\s+" + _NUM_RE + r"\s+(?:" + _UNIT_RE + r")\b"
    r"|" + _HOLIDAY_RE +
    r")"
)

_HOLD_CUES = (
    r"(?:not|don'?t\s+(?:ship|send|deliver)(?:\s+it)?|do\s+not\s+(?:ship|send|deliver)(?:\s+it)?|no\s+delivery"
    r"|nothing|shouldn'?t\s+(?:arrive|ship)|can'?t\s+receive\s+it|only)\s+(?:before|until|till|til|prior\s+to)"
    r"|(?:keep|store|hold)(?:\s+[\w']+){0,4}?\s+(?:until|till)"
    r"|(?:i'?m|we'?re|we\s+are|i\s+am)\s+(?:back|moving\s+in|home)(?:\s+on|\s+from)?"
    r"|no\s+earlier\s+than|not\s+earlier\s+than|hold(?:\s+(?:it|the\s+order|my\s+order|the\s+parcel|shipment))?"
    r"\s+(?:until|till|til|for\s+me\s+until)|wait\s+(?:until|till|til)|(?:ship|send|deliver)\s+(?:it\s+)?(?:only\s+)?"
    r"(?:after|from|on\s+or\s+after)|not\s+until|away\s+until|(?:i'?m|we'?re|we\s+are|i\s+am)\s+away\s+(?:until|till)"
    r"|after|starting|from"
    r"|nicht\s+vor|erst\s+(?:ab|nach|am)|frühestens(?:\s+am)?|warten\s+bis|zurückhalten\s+bis|(?:zurück)?halten\s+bis"
    r"|nach|ab"
    r"|pas\s+avant|attendre(?:\s+jusqu'?au|\s+le)?|après(?:\s+le)?|à\s+partir\s+du|a\s+partir\s+du"
    r"|ne\s+pas\s+(?:expédier|envoyer|livrer)(?:\s+le\s+colis)?\s+avant|(?:de\s+)?retour"
    r"|(?:not\s+home|out\s+of\s+town|on\s+holiday|on\s+vacation)\s+(?:until|till|til)"
    r"|(?:versand|lieferung)\s+(?:bitte\s+)?auf"
    r"|(?:garder|conserver)(?:\s+[\w']+){0,4}?\s+jusqu'(?:à|au)"
    r"|no\s+antes\s+del?|esperar\s+(?:hasta\s+)?(?:el\s+)?|después\s+del?|despues\s+del?|a\s+partir\s+del?"
)
_DELIVER_CUES = (
    r"(?:no\s+later\s+than|prior\s+to|ahead\s+of|at\s+the\s+latest\s+by|latest\s+by|by|before|until|till|in\s+time\s+for"
    r"|for|on|arrive"
    r"|needed\s+by|need\s+it\s+by|deliver(?:ed)?(?:\s+it)?|arrive|arrives|get\s+it|have\s+it|need\s+it"
    r"|geliefert|liefern|ankommen|da\s+sein"
    r"|bis\s+spätestens|spätestens(?:\s+(?:am|bis))?|bis\s+zum|bis|vor|zum|für|am"
    r"|avant(?:\s+le)?|pour(?:\s+le)?|d'ici(?:\s+le)?|au\s+plus\s+tard(?:\s+le)?"
    r"|antes\s+del?|para(?:\s+el)?|a\s+más\s+tardar(?:\s+el)?)"
)
_HOLD = re.compile(r"(?<!\w)(?P<cue>" + _HOLD_CUES + r")\s+(?:the\s+|dem\s+|den\s+|le\s+|el\s+)?(?P<expr>" + DATE_EXPR
                   + r")", re.IGNORECASE)
_DELIVER = re.compile(r"(?<!\w)(?P<cue>" + _DELIVER_CUES + r")\s+(?:the\s+|dem\s+|den\s+|le\s+|el\s+)?(?P<expr>"
                      + DATE_EXPR + r")", re.IGNORECASE)
_ANY_DATE = re.compile(r"(?<!\w)(?P<expr>" + DATE_EXPR + r")(?!\w)", re.IGNORECASE)

# German puts the verb last: "bis Freitag zurückhalten", "bis Montag im Urlaub" are holds although
# "bis" reads as a deadline.
_HOLD_VERB_AFTER = re.compile(r"^[\s,]*(?:[\wäöüß]+\s+){0,2}(?:zurückhalten|zurückstellen|verschieben|lagern"
                              r"|warten|aufbewahren"
                              r"|im urlaub|verreist|nicht da|nicht zu hause|unterwegs|hold|keep|wait)\b", re.IGNORECASE)
# "in zwei Wochen liefern", "within 5 days": an offset with no cue still reads as a deadline.
_OFFSET = re.compile(r"(?<!\w)(?P<expr>(?:within|innerhalb\s+von|innerhalb|in|dans|en|d'ici)\s+" + _NUM_RE + r"\s+(?:"
                     + _UNIT_RE + r"))\b", re.IGNORECASE)
_BEFORE_CUE = re.compile(r"^(?:before|prior|ahead|vor|avant|antes)", re.IGNORECASE)
_AFTER_CUE = re.compile(r"^(?:after|nach|après|después|despues|(?:ship|send|deliver)\s+(?:it\s+)?(?:only\s+)?after)",
                        re.IGNORECASE)
_GERMANIC = re.compile(r"\b(?:bitte|nicht|vor|nach|dem|den|bis|und|ist|das|die|der|spätestens|liefern|versand)\b",
                       re.IGNORECASE)
# French and Spanish write day/month too ("12/03" is the 12th of March).
_ROMANCE = re.compile(r"\b(?:le|la|les|avant|après|pas|pour|merci|svp|colis|livrer|livraison|expédier|envoyer"
                      r"|el|por|favor|antes|después|hasta|para|del|entregar|envío)\b", re.IGNORECASE)


@dataclass(frozen=True)
class NoteDates:
    """The dates a note asks for, and every date it mentions (for a tag the cues did not explain)."""

    deliver_by: date | None = None
    hold_until: date | None = None
    mentioned: tuple[date, ...] = ()


def _next_weekday(today: date, weekday: int) -> date:
    ahead = (weekday - today.weekday()) % 7 or 7
    return today + timedelta(days=ahead)


def _day_of_month(today: date, day: int) -> date | None:
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    if day < today.day:
        month += 1
    for _ in range(13):  # the next month that has that day (31st)
        if month > 12:
            year, month = year + 1, 1
        if day <= calendar.monthrange(year, month)[1]:
            return date(year, month, day)
        month += 1
    return None


def _month_day(today: date, month: int, day: int, year: int | None) -> date | None:
    if year is not None:
        if year < 100:
            year += 2000
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for y in (today.year, today.year + 1):
        try:
            candidate = date(y, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _number(word: str) -> int | None:
    word = word.lower()
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def _holiday(today: date, text: str) -> date | None:
    if re.search(r"eve|heilig|nochebuena", text):
        return _month_day(today, 12, 24, None)
    if re.search(r"christmas|xmas|x-mas|weihnachten|no[eë]l|navidad", text):
        return _month_day(today, 12, 25, None)
    if re.search(r"silvester", text):
        return _month_day(today, 12, 31, None)
    if re.search(r"new year|neujahr", text):
        return _month_day(today, 1, 1, None)
    if re.search(r"valentin", text):
        return _month_day(today, 2, 14, None)
    return None


@lru_cache(maxsize=4096)
def resolve_date(expr: str, created_at_date: date, english: bool = True) -> date | None:
    """One date expression (see the module doc) as a calendar date, relative to ``created_at_date``."""
    today = created_at_date
    text = re.sub(r"\s+", " ", expr.strip().lower())
    text = re.sub(r"^(?:the|dem|den|le|el|am|on) (?:día )?", "", text)
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        return _month_day(today, int(m[2]), int(m[3]), int(m[1]))
    if m := re.fullmatch(r"(\d{1,2})([./])(\d{1,2})(?:[./](\d{4}|\d{2}))?\.?", text):
        a, sep, b, year = int(m[1]), m[2], int(m[3]), int(m[4]) if m[4] else None
        month_first = english and sep == "/" and a <= 12
        month, day = (a, b) if month_first else (b, a)
        if not 1 <= month <= 12:
            month, day = day, month
        return _month_day(today, month, day, year) if 1 <= month <= 12 else None
    if (h := _holiday(today, text)) is not None:
        return h
    if re.fullmatch(r"day after tomorrow|übermorgen|après-demain|pasado mañana", text):
        return today + timedelta(days=2)
    if re.fullmatch(r"tomorrow|tmrw|morgen|demain|mañana", text):
        return today + timedelta(days=1)
    if re.search(r"end of (?:the )?(?:this )?month|ende (?:des|dieses) monats|monatsende"
                 r"|fin (?:du|de ce) mois|fin de mes", text):
        return date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    if re.search(r"end of (?:the )?next month|ende des nächsten monats", text):
        y, mo = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return date(y, mo, calendar.monthrange(y, mo)[1])
    if re.search(r"end of (?:the )?(?:this )?week|ende (?:der|dieser) woche", text):
        return today + timedelta(days=(4 - today.weekday()) % 7)  # Friday of this week
    if re.search(r"end of (?:the )?next week|ende nächster woche", text):
        return today + timedelta(days=(4 - today.weekday()) % 7 + 7)
    if re.search(r"(?:next|following) week|nächste[rn]? woche|kommende[rn]? woche|semaine prochaine|próxima semana"
                 r"|semana que viene", text):
        return today + timedelta(days=7 - today.weekday())  # Monday of next week
    if m := re.fullmatch(r"(?:in|within|innerhalb von|innerhalb|dans|en|d'ici) (\S+) (\S+)", text):
        n, unit = _number(m[1]), _DAY_UNITS.get(m[2])
        if n is not None and unit is not None:
            return today + timedelta(days=n * unit)
    if m := re.fullmatch(r"(?:(?:next|this|coming|nächsten|nächster|kommenden|diesen|ce|este) )?(\w+)\.?"
                         r"(?: (?:prochain|que viene|próximo))?", text):
        if m[1] in _WEEKDAYS:
            return _next_weekday(today, _WEEKDAYS[m[1]])
    if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th|\.|er)?", text):
        return _day_of_month(today, int(m[1]))
    if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th|\.|er|º)? (?:of |de )?([a-zäéèûñ]+)\.?(?: (?:de )?(\d{4}))?", text):
        if m[2] in _MONTHS:
            return _month_day(today, _MONTHS[m[2]], int(m[1]), int(m[3]) if m[3] else None)
    if m := re.fullmatch(r"([a-zäéèûñ]+)\.? (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?", text):
        if m[1] in _MONTHS:
            return _month_day(today, _MONTHS[m[1]], int(m[2]), int(m[3]) if m[3] else None)
    return _dateparser(text, today, english)


def _dateparser(text: str, today: date, english: bool) -> date | None:
    # The fallback: deterministic because the base is the order date and the preference is fixed.
    parsed = dateparser.parse(
        text,
        languages=["en", "de", "fr", "es"],
        settings={
            "RELATIVE_BASE": datetime(today.year, today.month, today.day, 12, 0),
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "MDY" if english else "DMY",
            "RETURN_AS_TIMEZONE_AWARE": False,
            "STRICT_PARSING": False,
        },
    )
    return parsed.date() if parsed is not None else None


def _order_date(created_at: datetime | date) -> date:
    return created_at.date() if isinstance(created_at, datetime) else created_at


def extract_dates(note: str | None, created_at: datetime | date) -> NoteDates:
    """``deliver_by`` / ``hold_until`` from the cues in ``note``, resolved against ``created_at``.

    When several cues of one kind appear, the earliest date wins for ``deliver_by`` (the tightest
    deadline) and the latest for ``hold_until`` (the longest wait).
    """
    if not note or not note.strip():
        return NoteDates()
    today = _order_date(created_at)
    english = not (_GERMANIC.search(note) or _ROMANCE.search(note))
    holds: list[date] = []
    taken: list[tuple[int, int]] = []
    for m in _HOLD.finditer(note):
        resolved = resolve_date(m["expr"], today, english)
        if resolved is None:
            continue
        if _AFTER_CUE.match(m["cue"]):
            resolved += timedelta(days=1)
        holds.append(resolved)
        taken.append(m.span())
    # Hold phrases are blanked so "not before Friday" cannot also read as "before Friday".
    rest = list(note)
    for start, end in taken:
        rest[start:end] = " " * (end - start)
    rest_text = "".join(rest)
    delivers: list[date] = []
    for m in _DELIVER.finditer(rest_text):
        resolved = resolve_date(m["expr"], today, english)
        if resolved is None:
            continue
        if _HOLD_VERB_AFTER.match(rest_text[m.end():m.end() + 40]):
            holds.append(resolved)
            continue
        if _BEFORE_CUE.match(m["cue"]):
            resolved -= timedelta(days=1)
        delivers.append(resolved)
    if not delivers:
        for m in _OFFSET.finditer(rest_text):
            if (resolved := resolve_date(m["expr"], today, english)) is not None:
                delivers.append(resolved)
    mentioned = []
    for m in _ANY_DATE.finditer(note):
        resolved = resolve_date(m["expr"], today, english)
        if resolved is not None:
            mentioned.append(resolved)
    return NoteDates(
        deliver_by=min(delivers) if delivers else None,
        hold_until=max(holds) if holds else None,
        mentioned=tuple(mentioned),
    )
