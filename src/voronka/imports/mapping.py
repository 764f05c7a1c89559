"""Which column of a file goes into which field, and the guess we start from.

A mapping is a list with one target key per column ("" = ignore). Headers are recognised in
English and Russian and as Google Contacts and Outlook export them ("E-mail 1 - Value",
"Business Phone"…); custom fields by their label or key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from voronka.core.custom_fields import definitions
from voronka.core.errors import Collector
from voronka.core.text import fold

CONTACTS = "contacts"
COMPANIES = "companies"
ENTITY_OF = {CONTACTS: "customers.contact", COMPANIES: "customers.company"}
CUSTOM_PREFIX = "cf:"


@dataclass(frozen=True)
class Target:
    key: str
    label: Any
    multi: bool = False


CONTACT_TARGETS = [
    Target("first_name", gettext_lazy("First name")),
    Target("middle_name", gettext_lazy("Middle name")),
    Target("last_name", gettext_lazy("Last name")),
    Target("full_name", gettext_lazy("Full name (first, last)")),
    Target("fio", gettext_lazy("Full name (last, first, middle)")),
    Target("email", gettext_lazy("E-mail (work)"), multi=True),
    Target("email_personal", gettext_lazy("E-mail (personal)"), multi=True),
    Target("email_other", gettext_lazy("E-mail (other)"), multi=True),
    Target("phone", gettext_lazy("Phone (mobile)"), multi=True),
    Target("phone_work", gettext_lazy("Phone (work)"), multi=True),
    Target("phone_home", gettext_lazy("Phone (home)"), multi=True),
    Target("phone_other", gettext_lazy("Phone (other)"), multi=True),
    Target("company", gettext_lazy("Company")),
    Target("position", gettext_lazy("Position")),
    Target("birthday", gettext_lazy("Birthday")),
    Target("owner", gettext_lazy("Owner (username or e-mail)")),
    Target("source", gettext_lazy("Source")),
    Target("tags", gettext_lazy("Tags"), multi=True),
    Target("email_consent", gettext_lazy("Agrees to e-mail marketing")),
    Target("sms_consent", gettext_lazy("Agrees to SMS marketing")),
]
COMPANY_TARGETS = [
    Target("name", gettext_lazy("Name")),
    Target("legal_name", gettext_lazy("Legal name")),
    Target("inn", gettext_lazy("INN / tax id")),
    Target("industry", gettext_lazy("Industry")),
    Target("size", gettext_lazy("Size")),
    Target("website", gettext_lazy("Website")),
    Target("phone", gettext_lazy("Phone")),
    Target("email", gettext_lazy("E-mail")),
    Target("region", gettext_lazy("Region")),
    Target("owner", gettext_lazy("Owner (username or e-mail)")),
    Target("tags", gettext_lazy("Tags"), multi=True),
    Target("address", gettext_lazy("Address (actual)")),
    Target("legal_address", gettext_lazy("Address (legal)")),
    Target("postal_address", gettext_lazy("Address (postal)")),
]
NAME_TARGETS = {"first_name", "last_name", "full_name", "fio"}

# Normalized header → target. Normalized: folded, digits and punctuation dropped.
_IGNORE = "-"
_CONTACT_HEADERS: dict[str, str] = {
    **dict.fromkeys(["first name", "given name", "firstname", "first", "имя", "name first"],
                    "first_name"),
    **dict.fromkeys(["middle name", "additional name", "middlename", "отчество"], "middle_name"),
    **dict.fromkeys(["last name", "family name", "surname", "lastname", "last", "фамилия"],
                    "last_name"),
    **dict.fromkeys(["name", "full name", "display name", "contact name", "contact", "fn",
                     "имя и фамилия", "полное имя", "контакт", "контактное лицо", "клиент"],
                    "full_name"),
    **dict.fromkeys(["фио", "ф и о", "фамилия имя отчество", "фамилия имя", "фамилия и имя"],
                    "fio"),
    **dict.fromkeys(["email", "e mail", "e mail value", "e mail address", "email address",
                     "mail", "электронная почта", "эл почта", "почта", "емейл", "емэйл",
                     "e mail адрес", "адрес электронной почты", "work e mail", "business e mail",
                     "рабочий e mail", "рабочая почта", "email work", "e mail work"], "email"),
    **dict.fromkeys(["home e mail", "personal e mail", "personal email", "личный e mail",
                     "личная почта", "домашний e mail", "email home", "e mail home"],
                    "email_personal"),
    **dict.fromkeys(["other e mail", "другой e mail", "другая почта"], "email_other"),
    **dict.fromkeys(["phone", "phone value", "mobile phone", "mobile", "cell phone", "cell",
                     "телефон", "мобильный", "мобильный телефон", "моб телефон", "сотовый",
                     "сотовый телефон", "тел", "номер телефона", "phone number",
                     "primary phone", "телефон мобильный"], "phone"),
    **dict.fromkeys(["business phone", "work phone", "office phone", "company main phone",
                     "рабочий телефон", "телефон рабочий", "служебный телефон"], "phone_work"),
    **dict.fromkeys(["home phone", "домашний телефон", "телефон домашний"], "phone_home"),
    **dict.fromkeys(["other phone", "другой телефон", "fax", "business fax", "home fax",
                     "факс", "pager"], "phone_other"),
    **dict.fromkeys(["company", "organization", "organization name", "organisation", "employer",
                     "account name", "компания", "организация", "название компании",
                     "место работы"], "company"),
    **dict.fromkeys(["job title", "position", "organization title", "role",
                     "должность", "позиция"], "position"),
    **dict.fromkeys(["birthday", "date of birth", "birth date", "dob", "дата рождения",
                     "день рождения", "др"], "birthday"),
    **dict.fromkeys(["owner", "responsible", "assigned to", "account owner", "manager",
                     "ответственный", "владелец", "менеджер"], "owner"),
    **dict.fromkeys(["source", "lead source", "источник", "канал"], "source"),
    **dict.fromkeys(["tags", "tag", "labels", "group membership", "categories", "теги", "тег",
                     "метки", "группы", "группа", "категории"], "tags"),
    **dict.fromkeys(["email consent", "e mail consent", "согласие на рассылку",
                     "согласие на e mail рассылку", "согласие на e mail", "subscribed",
                     "email opt in"], "email_consent"),
    **dict.fromkeys(["sms consent", "согласие на sms", "согласие на смс", "sms opt in"],
                    "sms_consent"),
    # Google's and Outlook's companions of a value column: kinds, labels, display names.
    **dict.fromkeys(["e mail type", "e mail label", "phone type", "phone label",
                     "e mail display name", "organization type", "title"], _IGNORE),
}  # fmt: skip
_COMPANY_HEADERS: dict[str, str] = {
    **dict.fromkeys(["name", "company", "company name", "organization", "organization name",
                     "account name", "название", "наименование", "компания", "организация",
                     "название компании", "краткое наименование"], "name"),
    **dict.fromkeys(["legal name", "full name", "полное наименование", "юридическое название",
                     "юридическое наименование", "юрлицо", "полное название"], "legal_name"),
    **dict.fromkeys(["inn", "инн", "tax id", "vat", "vat number", "taxpayer id"], "inn"),
    **dict.fromkeys(["industry", "отрасль", "сфера", "сфера деятельности", "вид деятельности"],
                    "industry"),
    **dict.fromkeys(["size", "employees", "company size", "размер", "численность",
                     "количество сотрудников"], "size"),
    **dict.fromkeys(["website", "web site", "site", "url", "web page", "сайт", "веб сайт"],
                    "website"),
    **dict.fromkeys(["phone", "phone number", "main phone", "business phone", "телефон",
                     "номер телефона", "рабочий телефон"], "phone"),
    **dict.fromkeys(["email", "e mail", "e mail address", "email address", "электронная почта",
                     "эл почта", "почта"], "email"),
    **dict.fromkeys(["region", "city", "регион", "город", "область"], "region"),
    **dict.fromkeys(["owner", "responsible", "assigned to", "account owner", "manager",
                     "ответственный", "владелец", "менеджер"], "owner"),
    **dict.fromkeys(["tags", "tag", "labels", "categories", "теги", "метки", "категории"],
                    "tags"),
    **dict.fromkeys(["address", "actual address", "адрес", "фактический адрес"], "address"),
    **dict.fromkeys(["legal address", "юридический адрес", "юр адрес"], "legal_address"),
    **dict.fromkeys(["postal address", "mailing address", "почтовый адрес"], "postal_address"),
}  # fmt: skip
# When no exact header matched: (fragment, target), first hit wins.
_CONTACT_KEYWORDS = [
    ("фамил", "last_name"), ("отчеств", "middle_name"), ("mail", "email"), ("почт", "email"),
    ("mobile", "phone"), ("моб", "phone"), ("phone", "phone"), ("телефон", "phone"),
    ("должн", "position"), ("компан", "company"), ("организац", "company"),
    ("рожден", "birthday"), ("birth", "birthday"),
]  # fmt: skip
_COMPANY_KEYWORDS = [
    ("инн", "inn"), ("mail", "email"), ("почт", "email"), ("phone", "phone"),
    ("телефон", "phone"), ("сайт", "website"), ("website", "website"), ("адрес", "address"),
    ("address", "address"), ("отрасл", "industry"), ("industry", "industry"),
]  # fmt: skip

_DROP = re.compile(r"[\d\W_]+")


def normalize_header(header: str) -> str:
    return _DROP.sub(" ", fold(header)).strip()


def targets(entity: str) -> list[Target]:
    """Every field a column may go into, custom fields of the entity last."""
    base = CONTACT_TARGETS if entity == CONTACTS else COMPANY_TARGETS
    custom = [Target(f"{CUSTOM_PREFIX}{f.key}", f.label) for f in definitions(ENTITY_OF[entity])]
    return [*base, *custom]


def target_labels(entity: str) -> dict[str, str]:
    return {t.key: str(t.label) for t in targets(entity)}


def _guess(header: str, entity: str, custom: dict[str, str]) -> tuple[str, int]:
    """(target, confidence): 3 custom field, 2 exact header, 1 keyword, 0 nothing."""
    norm = normalize_header(header)
    if not norm:
        return "", 0
    if norm in custom:
        return custom[norm], 3
    table = _CONTACT_HEADERS if entity == CONTACTS else _COMPANY_HEADERS
    if norm in table:
        return table[norm], 2
    for fragment, target in _CONTACT_KEYWORDS if entity == CONTACTS else _COMPANY_KEYWORDS:
        if fragment in norm:
            if target.startswith("phone") and entity == CONTACTS:
                if any(w in norm for w in ("work", "business", "рабоч", "служеб")):
                    return "phone_work", 1
                if any(w in norm for w in ("home", "домаш")):
                    return "phone_home", 1
            return target, 1
    return "", 0


def suggest(headers: list[str], entity: str) -> list[str]:
    """A target for each column, each single-valued field at most once (the surest column)."""
    custom: dict[str, str] = {}
    for f in definitions(ENTITY_OF[entity]):
        custom[normalize_header(f.label)] = f"{CUSTOM_PREFIX}{f.key}"
        custom.setdefault(normalize_header(f.key), f"{CUSTOM_PREFIX}{f.key}")
    guesses = [_guess(h, entity, custom) for h in headers]
    multi = {t.key for t in targets(entity) if t.multi}
    best: dict[str, int] = {}
    for i, (target, confidence) in enumerate(guesses):
        if not target or target == _IGNORE or target in multi:
            continue
        if target not in best or confidence > guesses[best[target]][1]:
            best[target] = i
    result = []
    for i, (target, _confidence) in enumerate(guesses):
        if target == _IGNORE or not target:
            result.append("")
        elif target in multi or best.get(target) == i:
            result.append(target)
        else:
            result.append("")
    return result


def clean_mapping(entity: str, headers: list[str], mapping: Any) -> list[str]:
    """The mapping checked against the entity's fields; ServiceValidationError if unusable."""
    errors = Collector()
    known = {t.key: t for t in targets(entity)}
    if isinstance(mapping, dict):
        # {"header or column index": "target"} as the API and the CLI take it.
        by_header = {h: i for i, h in enumerate(headers)}
        result = [""] * len(headers)
        for column, target in mapping.items():
            index = by_header.get(column)
            if index is None and str(column).isdigit() and int(column) < len(headers):
                index = int(column)
            if index is None:
                errors.add("mapping", _("no column “%(name)s” in the file") % {"name": column})
                continue
            result[index] = str(target or "")
        mapping = result
    if not isinstance(mapping, list) or len(mapping) != len(headers):
        errors.add("mapping", _("give one field per column"))
        errors.raise_if_any()
    mapping = [str(m or "") for m in mapping]
    seen: dict[str, int] = {}
    for i, key in enumerate(mapping):
        if not key:
            continue
        target = known.get(key)
        if target is None:
            errors.add(f"mapping[{i}]", _("unknown field “%(key)s”") % {"key": key})
            continue
        if not target.multi and key in seen:
            errors.add(
                f"mapping[{i}]",
                _("“%(field)s” is already taken by the column “%(column)s”")
                % {"field": target.label, "column": headers[seen[key]]},
            )
        seen.setdefault(key, i)
    if not seen and not errors.errors:
        errors.add(
            "mapping",
            _("None of the columns was recognised. Choose a field for at least one column."),
        )
    elif entity == CONTACTS and not (NAME_TARGETS & set(seen)) and not errors.errors:
        errors.add(
            "mapping",
            _("Choose the column with the first name, the last name or the full name."),
        )
    elif entity == COMPANIES and "name" not in seen and not errors.errors:
        errors.add("mapping", _("Choose the column with the company name."))
    errors.raise_if_any()
    return mapping
