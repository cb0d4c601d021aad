"""Personal data out of free text before it leaves the process: notes, prompts, logs, alerts.

:func:`mask_pii` replaces customer names (taken from the order, since no regex can tell a name),
emails, phone numbers, street lines, card-like numbers (Luhn-checked) and gate/door/access codes by
numbered placeholders (``[NAME_1]``, ``[EMAIL_1]``...) and keeps the mapping so that what an LLM
returns can be :func:`unmask`-ed locally. :func:`redact` is the one-way form for logs and metadata,
and :class:`PiiLogFilter` applies the pattern-based part to every log record.

The patterns favour precision on what order notes carry (dates, prices, order numbers such as
``#1042``, quantities and zip codes stay untouched), and recall on the kinds that matter most:
anything shaped like a phone or card number is masked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oms_pipeline.domain.orders import Order

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")

# Gate/door/access codes: the keyword, an optional "is"/":"/"#", then the code itself (digits,
# optionally with letters, * or #). English, German, French and Spanish keywords.
_CODE = re.compile(
    r"(?P<kw>\b(?:(?:gate|door|entry|entrance|access|building|lobby|keypad|buzzer|alarm|lockbox|key ?box)"
    r"[ \-]?(?:code|pin|number|no\.?)"
    r"|(?:tor|tür|tuer|haustür|haustuer|eingangs|zugangs)[ \-]?(?:code|pin)"
    r"|digicode|code (?:du |de la |d')?(?:portail|porte|portillon|entrée|entree|immeuble)"
    r"|c[óo]digo (?:del? )?(?:port[óo]n|puerta|portal|acceso|entrada)"
    r"|buzz(?:er)?|code)\b"
    r"(?:\s*(?:is|ist|est|es|=)\b)?\s*[:#\-]?\s*)"
    r"(?P<code>#?[0-9][0-9A-Za-z*#]{1,9}\b#?|[A-Za-z]{0,2}[0-9]{3,8}[A-Za-z]?\b)",
    re.IGNORECASE,
)

# Street lines. English: "12 Baker Street", "221B Baker St.", "1600 Pennsylvania Ave NW".
# Unambiguous street words match in any case; words that are also plain English ("way", "close",
# "place") only when capitalised, so "3 Large Boxes way too many" stays as it is.
_STREET_WORDS_EN = (
    r"(?i:street|st\.?|avenue|ave\.?|road|rd\.?|lane|ln\.?|drive|dr\.?|boulevard|blvd\.?|parkway|pkwy\.?"
    r"|highway|hwy\.?)"
    r"|Way|Terrace|Close|Crescent|Square|Sq\.?|Place|Pl\.?|Court|Ct\.?|Circle|Cir\.?|Row|Mews|Gardens"
)
_STREET_EN = re.compile(
    r"\b\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][\w'\-]*\.?\s+){1,3}(?:" + _STREET_WORDS_EN + r")(?=\W|$)"
    r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b)?",
)
# German: "Hauptstraße 5", "Bahnhofstr. 12a", "Am Markt 3" is not covered; "Lindenweg 7", "Kirchgasse 2".
_STREET_DE = re.compile(
    r"\b[A-ZÄÖÜ][\wäöüß\-]*(?:stra(?:ß|ss)e|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee)"
    r"\s+\d{1,4}(?:\s?[a-zA-Z](?![\wäöüß]))?(?!\d)"
    r"|\b(?:[A-ZÄÖÜ][\wäöüß\-]*\s+)(?:Straße|Strasse|Str\.|Weg|Gasse|Allee|Platz)\s+\d{1,4}(?:\s?[a-zA-Z](?![\wäöüß]))?(?!\d)"
)
# French/Spanish: "12 rue de la Paix", "Calle Mayor 5".
_STREET_FR_ES = re.compile(
    r"\b\d{1,4}(?:\s?bis|\s?ter)?,?\s+(?:rue|avenue|boulevard|bd|chemin|allée|impasse|place|quai)\s+[\w'’\- ]{2,40}?"
    r"(?=[,.;!?]|\s(?:and|et|y|und|please|svp|merci)\b|$)"
    r"|\b(?:calle|avenida|avda\.?|plaza|paseo|camino)\s+(?:[A-ZÁÉÍÓÚÑ][\wáéíóúñ]*\s+){1,3}\d{1,4}\b",
    re.IGNORECASE,
)
# Unit lines: "Apt 4B", "Apartment 12", "Suite 200", "Unit 3", "Flat 2", "Wohnung 5".
_UNIT = re.compile(
    r"\b(?:apt\.?|apartment|suite|ste\.?|unit|flat|wohnung|whg\.?|appartement|appt\.?|piso)\s*#?\s*\d{1,5}[A-Za-z]?\b",
    re.IGNORECASE,
)
_PO_BOX = re.compile(r"\b(?:P\.?\s?O\.?\s?Box|Postfach)\s+\d{1,8}\b", re.IGNORECASE)

# Card-like: 13-19 digits, optionally grouped by single spaces or dashes; Luhn decides.
_CARD = re.compile(r"(?<![\d#.,])\d(?:[ \-]?\d){12,18}(?![\d])")

# Phones. International: "+49 30 1234567", "+1 (555) 123-4567", "0049 ...". US: "(555) 123-4567",
# "555-123-4567", "555.123.4567". National with a trunk zero: "030 1234567", "0171 2345678", "07700 900123".
_PHONE = re.compile(
    r"(?<![\w#/.\-])(?:"
    r"(?:\+|00)\d{1,3}[\s.\-/]?(?:\(0?\d{1,4}\)[\s.\-/]?)?\d{1,5}(?:[\s.\-/]?\d{2,5}){1,4}"
    r"|\(\d{3}\)\s?\d{3}[\s.\-]\d{4}"
    r"|\d{3}[.\-]\d{3}[.\-]\d{4}"
    r"|\d{3} \d{3} \d{4}"
    r"|0\d{2,4}[\s/\-]?\d{3,8}(?:[\s\-]\d{2,5})?"
    r")(?![\w/])(?!\.\d)(?!-\d)"
)
# Date-shaped strings a phone pattern could otherwise eat ("2024-05-12", "12.05.2024", "05/12/2024").
_DATEISH = re.compile(r"^\d{1,4}([./\-])\d{1,2}\1\d{1,4}$")


@dataclass(frozen=True)
class MaskedText:
    """Text with personal data replaced by placeholders, and the placeholder -> original mapping."""

    text: str
    placeholders: dict[str, str] = field(default_factory=dict)

    def unmask(self, text: str | None) -> str | None:
        """Put the originals back into ``text`` (typically something the LLM returned)."""
        return unmask(text, self.placeholders) if text is not None else None


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _is_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15:
        return False
    if _DATEISH.match(candidate.strip()):
        return False
    return True


def names_from_order(order: Order) -> list[str]:
    """Every customer/recipient name the order carries (customer, shipping and billing addresses)."""
    names: list[str] = []
    people = [order.customer, order.shipping_address, order.billing_address]
    for who in people:
        if who is None:
            continue
        first, last = getattr(who, "first_name", None), getattr(who, "last_name", None)
        names.extend(n for n in (first, last) if n)
        if first and last:
            names.append(f"{first} {last}")
    return names


def _name_patterns(names: Iterable[str]) -> list[re.Pattern[str]]:
    parts: set[str] = set()
    for name in names:
        name = (name or "").strip()
        if len(name) < 2:
            continue
        parts.add(name)
        # A full name also masks its parts ("Anna Schmidt" -> "Anna", "Schmidt").
        parts.update(p for p in re.split(r"[\s\-]+", name) if len(p) >= 2)
    # Longest first, so "Anna Schmidt" becomes one placeholder rather than two.
    ordered = sorted(parts, key=len, reverse=True)
    return [re.compile(r"(?<!\w)" + re.escape(p) + r"(?!\w)", re.IGNORECASE) for p in ordered]


class _Masker:
    def __init__(self) -> None:
        self.placeholders: dict[str, str] = {}
        self._by_original: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, kind: str, original: str) -> str:
        # The same value gets the same placeholder, so the model can still see "X mentioned twice".
        key = (kind, original.lower())
        if key not in self._by_original:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            token = f"[{kind}_{self._counts[kind]}]"
            self._by_original[key] = token
            self.placeholders[token] = original
        return self._by_original[key]

    def sub(self, pattern: re.Pattern[str], kind: str, text: str, *, accept=None, group: str | None = None) -> str:
        def repl(m: re.Match[str]) -> str:
            value = m.group(group) if group else m.group(0)
            if accept is not None and not accept(value):
                return m.group(0)
            token = self.placeholder(kind, value)
            if group:
                return m.group(0)[: m.start(group) - m.start(0)] + token + m.group(0)[m.end(group) - m.start(0):]
            return token

        return pattern.sub(repl, text)


def mask_pii(text: str, names: Iterable[str] = ()) -> MaskedText:
    """Replace personal data in ``text`` by numbered placeholders.

    ``names``: the customer/recipient names from the order (first, last or full; matched
    case-insensitively on word boundaries). Order matters: emails first (they contain dots and
    digits), then cards (Luhn), codes, street lines, phones, and names last so that a name inside an
    already-masked email is not double-counted.
    """
    if not text:
        return MaskedText(text=text or "", placeholders={})
    m = _Masker()
    out = m.sub(_EMAIL, "EMAIL", text)
    out = m.sub(_CARD, "CARD", out, accept=lambda v: _luhn_ok(re.sub(r"\D", "", v)))
    out = m.sub(_CODE, "CODE", out, group="code")
    for pattern in (_STREET_EN, _STREET_DE, _STREET_FR_ES, _UNIT, _PO_BOX):
        out = m.sub(pattern, "STREET", out)
    out = m.sub(_PHONE, "PHONE", out, accept=_is_phone)
    for pattern in _name_patterns(names):
        out = m.sub(pattern, "NAME", out)
    return MaskedText(text=out, placeholders=dict(m.placeholders))


def unmask(text: str, placeholders: dict[str, str]) -> str:
    """Replace placeholders in ``text`` by their originals (unknown placeholders stay as they are)."""
    if not text or not placeholders:
        return text
    pattern = re.compile("|".join(re.escape(p) for p in sorted(placeholders, key=len, reverse=True)))
    return pattern.sub(lambda mt: placeholders[mt.group(0)], text)


def redact(text: str | None, names: Iterable[str] = ()) -> str | None:
    """One-way masking for logs, alerts and asset metadata (no mapping is kept)."""
    if text is None:
        return None
    return mask_pii(text, names).text


def _redact_patterns(text: str) -> str:
    # The log filter knows no names; it masks what patterns can find without the order.
    m = _Masker()
    out = m.sub(_EMAIL, "EMAIL", text)
    out = m.sub(_CARD, "CARD", out, accept=lambda v: _luhn_ok(re.sub(r"\D", "", v)))
    out = m.sub(_PHONE, "PHONE", out, accept=_is_phone)
    return out


class PiiLogFilter(logging.Filter):
    """A logging filter that masks emails, phone numbers and card numbers in messages and args.

    Attach to a handler (``handler.addFilter(PiiLogFilter())``) so every record is cleaned before
    it is formatted. It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 - logging API name
        """Mask the record in place; always keep it."""
        if isinstance(record.msg, str):
            record.msg = _redact_patterns(record.msg)
        if record.args:
            if isinstance(record.args, dict):
                record.args = {k: _redact_arg(v) for k, v in record.args.items()}
            else:
                record.args = tuple(_redact_arg(a) for a in record.args)
        return True


def _redact_arg(value: object) -> object:
    return _redact_patterns(value) if isinstance(value, str) else value
