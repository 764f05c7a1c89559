"""A small, tolerant vCard reader (2.1, 3.0 and 4.0) that turns cards into a table.

Written here rather than taken from a library because phones export vCard 2.1 with
quoted-printable Cyrillic split by soft line breaks (``=`` at the end of a line, the next line
*not* indented), bare parameters (``TEL;CELL;PREF:``) and a ``CHARSET`` per property, which
general parsers handle unevenly. Folded lines (3.0/4.0), groups (``item1.EMAIL``), quoted
parameters and ``tel:`` URIs (4.0) are understood too. What cannot be a vCard — a line that is
neither a property nor a continuation, a card without its END — is refused with the line
number, so a broken file writes nothing."""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

_LINES = re.compile(r"\r\n|\r|\n")
_NAME = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)?")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")


class VCardError(Exception):
    """The text is not a readable vCard file; the message names the line."""


@dataclass
class Property:
    name: str
    params: dict[str, list[str]]
    raw: str
    line: int

    @property
    def types(self) -> set[str]:
        return {t.upper() for t in self.params.get("TYPE", [])}

    def decoded(self) -> str:
        """The value as text: quoted-printable and charset undone, escapes still in place."""
        encoding = {e.upper() for e in self.params.get("ENCODING", [])}
        if "QUOTED-PRINTABLE" not in encoding:
            return self.raw
        data = binascii.a2b_qp(self.raw.encode("utf-8"))
        charsets = [c for c in self.params.get("CHARSET", []) if c] + ["utf-8", "cp1251"]
        for charset in charsets:
            try:
                return data.decode(charset)
            except (UnicodeDecodeError, LookupError):
                continue
        return data.decode("latin-1")


@dataclass
class Card:
    properties: list[Property] = field(default_factory=list)
    line: int = 0

    def all(self, name: str) -> list[Property]:
        return [p for p in self.properties if p.name == name]

    def first(self, name: str) -> str:
        for prop in self.properties:
            if prop.name == name:
                return unescape(prop.decoded()).strip()
        return ""


def unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def split_unescaped(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not escaped by a backslash; parts keep their escapes."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


# --- lines → properties ----------------------------------------------------------------------


def _head_end(line: str) -> int:
    """Index of the colon ending name and parameters (colons in quoted parameters skipped)."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            return i
    return -1


def _parse_params(parts: list[str]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for part in parts:
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            # vCard 2.1 bare parameters: TEL;CELL;PREF, N;QUOTED-PRINTABLE, PHOTO;JPEG
            bare = key.upper()
            name = "ENCODING" if bare in {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT"} else "TYPE"
            params.setdefault(name, []).append(bare)
            continue
        values = [v.strip() for v in value.replace('"', "").split(",")]
        params.setdefault(key.strip().upper(), []).extend(v for v in values if v)
    return params


def _split_params(head: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in head:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Unfolded lines with the number of their first physical line."""
    result: list[tuple[int, str]] = []
    for number, line in enumerate(_LINES.split(text.lstrip("\ufeff")), start=1):
        if not line.strip():
            continue
        if result and _continues_qp(result[-1][1]):
            start, previous = result[-1]
            result[-1] = (start, previous[:-1] + line)
            continue
        if result and line[0] in " \t":
            start, previous = result[-1]
            result[-1] = (start, previous + line[1:])
            continue
        if result and ":" not in line and _is_base64(result[-1][1]) and _BASE64.fullmatch(line):
            start, previous = result[-1]
            result[-1] = (start, previous + line.strip())
            continue
        result.append((number, line))
    return result


def _continues_qp(line: str) -> bool:
    end = _head_end(line)
    return end > 0 and "QUOTED-PRINTABLE" in line[:end].upper() and line.endswith("=")


def _is_base64(line: str) -> bool:
    end = _head_end(line)
    head = line[:end].upper() if end > 0 else ""
    return "BASE64" in head or "ENCODING=B" in head


def parse(text: str) -> list[Card]:
    """Every card of the file; VCardError names the first line that is not vCard."""
    cards: list[Card] = []
    card: Card | None = None
    for number, line in _logical_lines(text):
        end = _head_end(line)
        head = line[:end] if end > 0 else ""
        parts = _split_params(head)
        name_part = parts[0].strip()
        if end <= 0 or not _NAME.fullmatch(name_part):
            shown = line if len(line) <= 60 else line[:57] + "…"
            raise VCardError(
                _("Line %(n)d of the vCard file is broken: “%(line)s”. "
                  "Every line must be a property such as TEL:… or continue the line above.")
                % {"n": number, "line": shown}
            )  # fmt: skip
        name = name_part.rsplit(".", 1)[-1].upper()
        value = line[end + 1 :]
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            if card is not None:
                raise VCardError(
                    _("Line %(n)d: a new card begins before the previous one ended "
                      "(END:VCARD is missing).") % {"n": number}
                )  # fmt: skip
            card = Card(line=number)
            continue
        if name == "END" and value.strip().upper() == "VCARD":
            if card is None:
                raise VCardError(_("Line %(n)d: END:VCARD without BEGIN:VCARD.") % {"n": number})
            cards.append(card)
            card = None
            continue
        if card is None:
            raise VCardError(
                _("Line %(n)d is outside a card (BEGIN:VCARD … END:VCARD).") % {"n": number}
            )
        card.properties.append(
            Property(name=name, params=_parse_params(parts[1:]), raw=value, line=number)
        )
    if card is not None:
        raise VCardError(
            _("The card that begins on line %(n)d has no END:VCARD: the file is cut short.")
            % {"n": card.line}
        )
    return cards


# --- cards → a table -------------------------------------------------------------------------

FULL_NAME = "Full name"
LAST_NAME = "Last name"
FIRST_NAME = "First name"
MIDDLE_NAME = "Middle name"
ORGANIZATION = "Organization"
JOB_TITLE = "Job title"
BIRTHDAY = "Birthday"
CATEGORIES = "Categories"
EMAIL = "E-mail"
WORK_EMAIL = "Work e-mail"
HOME_EMAIL = "Home e-mail"
MOBILE = "Mobile phone"
WORK_PHONE = "Work phone"
HOME_PHONE = "Home phone"
OTHER_PHONE = "Other phone"
PHONE = "Phone"
ORDER = [
    FULL_NAME, LAST_NAME, FIRST_NAME, MIDDLE_NAME, ORGANIZATION, JOB_TITLE, BIRTHDAY, CATEGORIES,
    MOBILE, WORK_PHONE, HOME_PHONE, PHONE, OTHER_PHONE, EMAIL, WORK_EMAIL, HOME_EMAIL,
]  # fmt: skip


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


def _phone_column(types: set[str]) -> str:
    if "CELL" in types or "MOBILE" in types:
        return MOBILE
    if "FAX" in types or "PAGER" in types:
        return OTHER_PHONE
    if "WORK" in types:
        return WORK_PHONE
    if "HOME" in types:
        return HOME_PHONE
    return PHONE


def _email_column(types: set[str]) -> str:
    if "WORK" in types:
        return WORK_EMAIL
    if "HOME" in types:
        return HOME_EMAIL
    return EMAIL


def card_values(card: Card) -> list[tuple[str, str]]:
    """(column, value) pairs of one card; a column may repeat (several phones)."""
    values: list[tuple[str, str]] = []
    fn = card.first("FN")
    if fn:
        values.append((FULL_NAME, fn))
    for prop in card.all("N")[:1]:
        parts = [unescape(p).strip() for p in split_unescaped(prop.decoded(), ";")]
        parts += [""] * (3 - len(parts))
        for column, value in zip((LAST_NAME, FIRST_NAME, MIDDLE_NAME), parts[:3], strict=True):
            if value:
                values.append((column, value.replace(",", " ").strip()))
    for prop in card.all("ORG")[:1]:
        org = unescape(split_unescaped(prop.decoded(), ";")[0]).strip()
        if org:
            values.append((ORGANIZATION, org))
    for column, name in ((JOB_TITLE, "TITLE"), (BIRTHDAY, "BDAY")):
        if text := card.first(name):
            values.append((column, text))
    categories = [
        unescape(c).strip()
        for prop in card.all("CATEGORIES")
        for c in split_unescaped(prop.decoded(), ",")
    ]
    if categories := [c for c in categories if c]:
        values.append((CATEGORIES, ", ".join(categories)))
    for prop in card.all("TEL"):
        number = unescape(prop.decoded()).strip()
        if number.lower().startswith("tel:"):
            number = number[4:].split(";", 1)[0]
        if number:
            values.append((_phone_column(prop.types), number))
    for prop in card.all("EMAIL"):
        email = unescape(prop.decoded()).strip()
        if email.lower().startswith("mailto:"):
            email = email[7:]
        if email:
            values.append((_email_column(prop.types), email))
    return values


def read_table(text: str) -> Table:
    """The cards as rows; columns numbered when a card has several of a kind ("Phone 2")."""
    per_card: list[dict[str, str]] = []
    columns: dict[str, int] = {}
    for card in parse(text):
        row: dict[str, str] = {}
        seen: dict[str, int] = {}
        for column, value in card_values(card):
            seen[column] = seen.get(column, 0) + 1
            key = column if seen[column] == 1 else f"{column} {seen[column]}"
            row[key] = value
            columns[column] = max(columns.get(column, 0), seen[column])
        per_card.append(row)
    headers = [
        name if n == 1 else f"{name} {n}"
        for name in ORDER
        for n in range(1, columns.get(name, 0) + 1)
    ]
    return Table(headers=headers, rows=[[row.get(h, "") for h in headers] for row in per_card])
