"""The fields a column may go into, for each kind of record, and the headers that name them.

Pure data: a target list, a table of normalized headers (folded, digits and punctuation
dropped, see mapping.normalize_header) and keyword fragments tried when no header matched
exactly. English and Russian headers, and the exports of Google Contacts, Outlook, amoCRM and
Bitrix24 as people download them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy


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
IGNORE = "-"
CONTACT_HEADERS: dict[str, str] = {
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
                     "e mail display name", "organization type", "title"], IGNORE),
}  # fmt: skip
COMPANY_HEADERS: dict[str, str] = {
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
CONTACT_KEYWORDS = [
    ("фамил", "last_name"), ("отчеств", "middle_name"), ("mail", "email"), ("почт", "email"),
    ("mobile", "phone"), ("моб", "phone"), ("phone", "phone"), ("телефон", "phone"),
    ("должн", "position"), ("компан", "company"), ("организац", "company"),
    ("рожден", "birthday"), ("birth", "birthday"),
]  # fmt: skip
COMPANY_KEYWORDS = [
    ("инн", "inn"), ("mail", "email"), ("почт", "email"), ("phone", "phone"),
    ("телефон", "phone"), ("сайт", "website"), ("website", "website"), ("адрес", "address"),
    ("address", "address"), ("отрасл", "industry"), ("industry", "industry"),
]  # fmt: skip

# --- sales ---------------------------------------------------------------------------------

_NAME_HEADERS: dict[str, str] = {
    key: target
    for key, target in CONTACT_HEADERS.items()
    if target in ("first_name", "middle_name", "last_name", "full_name", "fio")
}
_EMAIL_HEADERS = ["email", "e mail", "e mail address", "email address", "mail", "электронная почта",
                  "эл почта", "почта", "емейл", "адрес электронной почты", "рабочий e mail"]  # fmt: skip
_PHONE_HEADERS = ["phone", "phone number", "mobile", "mobile phone", "телефон", "мобильный",
                  "мобильный телефон", "номер телефона", "рабочий телефон", "тел"]  # fmt: skip
_OWNER_HEADERS = ["owner", "responsible", "assigned to", "manager", "sales rep", "deal owner",
                  "lead owner", "ответственный", "ответственный менеджер", "менеджер",
                  "владелец"]  # fmt: skip
_SOURCE_HEADERS = ["source", "lead source", "deal source", "источник", "канал", "источник лида",
                   "источник сделки", "рекламный канал"]  # fmt: skip
OWNER_TARGET = Target("owner", gettext_lazy("Owner (username, e-mail or name)"))

LEAD_TARGETS = [
    Target("first_name", gettext_lazy("First name")),
    Target("middle_name", gettext_lazy("Middle name")),
    Target("last_name", gettext_lazy("Last name")),
    Target("full_name", gettext_lazy("Full name (first, last)")),
    Target("fio", gettext_lazy("Full name (last, first, middle)")),
    Target("company_name", gettext_lazy("Company")),
    Target("inn", gettext_lazy("INN / tax id")),
    Target("email", gettext_lazy("E-mail")),
    Target("phone", gettext_lazy("Phone")),
    Target("source", gettext_lazy("Source")),
    Target("region", gettext_lazy("Region")),
    Target("utm_source", "UTM source"),
    Target("utm_medium", "UTM medium"),
    Target("utm_campaign", "UTM campaign"),
    Target("utm_term", "UTM term"),
    Target("utm_content", "UTM content"),
    Target("message", gettext_lazy("Message or comment")),
    Target("status", gettext_lazy("Status")),
    Target("junk_reason", gettext_lazy("Junk reason")),
    OWNER_TARGET,
]
LEAD_HEADERS: dict[str, str] = {
    **_NAME_HEADERS,
    **dict.fromkeys(["company", "company name", "organization", "organisation", "компания",
                     "организация", "название компании", "место работы"], "company_name"),
    **dict.fromkeys(["inn", "инн", "tax id", "инн компании"], "inn"),
    **dict.fromkeys(_EMAIL_HEADERS, "email"),
    **dict.fromkeys(_PHONE_HEADERS, "phone"),
    **dict.fromkeys(_SOURCE_HEADERS, "source"),
    **dict.fromkeys(["region", "city", "регион", "город", "область"], "region"),
    **{f"utm {part}": f"utm_{part}" for part in ("source", "medium", "campaign", "term",
                                                  "content")},
    **dict.fromkeys(["message", "comment", "comments", "notes", "note", "request", "сообщение",
                     "комментарий", "примечание", "текст заявки", "заявка", "вопрос"], "message"),
    **dict.fromkeys(["status", "lead status", "статус", "статус лида", "статус заявки"],
                    "status"),
    **dict.fromkeys(["junk reason", "причина", "причина отказа", "почему мусор"], "junk_reason"),
    **dict.fromkeys(_OWNER_HEADERS, "owner"),
}  # fmt: skip
LEAD_KEYWORDS = [
    ("фамил", "last_name"), ("отчеств", "middle_name"), ("mail", "email"), ("почт", "email"),
    ("phone", "phone"), ("телефон", "phone"), ("инн", "inn"), ("компан", "company_name"),
    ("организац", "company_name"), ("комментар", "message"), ("ответствен", "owner"),
]  # fmt: skip
LEAD_NAME_TARGETS = {"first_name", "last_name", "full_name", "fio", "company_name", "email",
                     "phone"}  # fmt: skip

DEAL_TARGETS = [
    Target("title", gettext_lazy("Deal name")),
    Target("external_id", gettext_lazy("External ID (from the other system)")),
    Target("amount", gettext_lazy("Amount")),
    Target("currency", gettext_lazy("Currency")),
    Target("pipeline", gettext_lazy("Pipeline (name)")),
    Target("stage", gettext_lazy("Stage (name)")),
    OWNER_TARGET,
    Target("contact_email", gettext_lazy("Contact's e-mail (an existing contact)")),
    Target("contact_phone", gettext_lazy("Contact's phone (an existing contact)")),
    Target("company", gettext_lazy("Company (an existing one, by name)")),
    Target("company_inn", gettext_lazy("Company's INN (an existing company)")),
    Target("expected_close_date", gettext_lazy("Expected close date")),
    Target("probability", gettext_lazy("Probability, %")),
    Target("source", gettext_lazy("Source")),
    Target("tags", gettext_lazy("Tags"), multi=True),
    Target("lost_reason", gettext_lazy("Lost reason")),
    Target("lost_comment", gettext_lazy("Lost comment")),
]
DEAL_HEADERS: dict[str, str] = {
    **dict.fromkeys(["title", "deal", "deal name", "deal title", "opportunity", "name",
                     "название", "название сделки", "сделка", "наименование",
                     "наименование сделки", "тема", "тема сделки"], "title"),
    **dict.fromkeys(["id", "external id", "deal id", "ид", "id сделки", "идентификатор",
                     "внешний id", "внешний идентификатор", "номер сделки", "код сделки"],
                    "external_id"),
    **dict.fromkeys(["amount", "value", "deal value", "sum", "total", "budget", "сумма",
                     "бюджет", "сумма сделки", "стоимость", "сумма руб", "бюджет руб"], "amount"),
    **dict.fromkeys(["currency", "валюта", "валюта сделки"], "currency"),
    **dict.fromkeys(["pipeline", "funnel", "sales pipeline", "воронка", "воронка продаж",
                     "направление"], "pipeline"),
    **dict.fromkeys(["stage", "deal stage", "status", "этап", "этап сделки", "стадия",
                     "стадия сделки", "статус", "статус сделки"], "stage"),
    **dict.fromkeys(_OWNER_HEADERS, "owner"),
    **dict.fromkeys(["contact email", "contact e mail", "e mail контакта", "email контакта",
                     "почта контакта", "контакт e mail", "контакт email", *_EMAIL_HEADERS],
                    "contact_email"),
    **dict.fromkeys(["contact phone", "телефон контакта", "контакт телефон", *_PHONE_HEADERS],
                    "contact_phone"),
    **dict.fromkeys(["company", "company name", "organization", "account", "account name",
                     "компания", "организация", "название компании", "клиент", "контрагент"],
                    "company"),
    **dict.fromkeys(["inn", "инн", "инн компании", "инн клиента", "tax id"], "company_inn"),
    **dict.fromkeys(["close date", "expected close date", "closing date", "дата закрытия",
                     "ожидаемая дата закрытия", "планируемая дата закрытия", "срок",
                     "дата завершения"], "expected_close_date"),
    **dict.fromkeys(["probability", "вероятность"], "probability"),
    **dict.fromkeys(_SOURCE_HEADERS, "source"),
    **dict.fromkeys(["tags", "tag", "labels", "теги", "тег", "метки"], "tags"),
    **dict.fromkeys(["lost reason", "reason lost", "loss reason", "причина отказа",
                     "причина проигрыша", "причина закрытия"], "lost_reason"),
    **dict.fromkeys(["lost comment", "комментарий к отказу"], "lost_comment"),
}  # fmt: skip
DEAL_KEYWORDS = [
    ("ответствен", "owner"), ("сумм", "amount"), ("бюджет", "amount"), ("amount", "amount"),
    ("этап", "stage"), ("стади", "stage"), ("воронк", "pipeline"), ("pipeline", "pipeline"),
    ("mail", "contact_email"), ("почт", "contact_email"), ("телефон", "contact_phone"),
    ("phone", "contact_phone"), ("инн", "company_inn"), ("компан", "company"),
    ("организац", "company"), ("валют", "currency"), ("вероятн", "probability"),
    ("закрыт", "expected_close_date"), ("сделк", "title"),
]  # fmt: skip

PRODUCT_TARGETS = [
    Target("sku", gettext_lazy("SKU (article)")),
    Target("name", gettext_lazy("Name")),
    Target("price", gettext_lazy("Price (in the currency column, else the base currency)")),
    Target("currency", gettext_lazy("Currency of the price")),
    Target("unit", gettext_lazy("Unit")),
    Target("vat_rate", gettext_lazy("VAT, %")),
    Target("category", gettext_lazy("Category")),
    Target("description", gettext_lazy("Description")),
    Target("active", gettext_lazy("Active (for sale)")),
]
PRODUCT_HEADERS: dict[str, str] = {
    **dict.fromkeys(["sku", "article", "article number", "item number", "code", "product code",
                     "part number", "артикул", "арт", "код", "код товара", "артикул товара"],
                    "sku"),
    **dict.fromkeys(["name", "product", "product name", "item", "title", "наименование",
                     "название", "товар", "наименование товара", "название товара",
                     "номенклатура", "услуга", "товар услуга"], "name"),
    **dict.fromkeys(["price", "unit price", "cost", "цена", "стоимость", "цена за единицу",
                     "цена за ед", "розничная цена", "цена продажи"], "price"),
    **dict.fromkeys(["currency", "валюта"], "currency"),
    **dict.fromkeys(["unit", "units", "uom", "unit of measure", "ед", "ед изм", "единица",
                     "единица измерения", "ед измерения"], "unit"),
    **dict.fromkeys(["vat", "vat rate", "tax", "tax rate", "ндс", "ставка ндс"], "vat_rate"),
    **dict.fromkeys(["category", "group", "product group", "категория", "группа",
                     "группа товаров", "раздел"], "category"),
    **dict.fromkeys(["description", "details", "описание", "характеристики"], "description"),
    **dict.fromkeys(["active", "enabled", "for sale", "активен", "активный", "в продаже",
                     "доступен"], "active"),
}  # fmt: skip
PRODUCT_KEYWORDS = [
    ("артикул", "sku"), ("цен", "price"), ("price", "price"), ("стоимост", "price"),
    ("ндс", "vat_rate"), ("vat", "vat_rate"), ("наименован", "name"), ("описан", "description"),
    ("категор", "category"), ("валют", "currency"), ("ед изм", "unit"),
]  # fmt: skip
# Words in a price header that name its currency ("Цена, руб.", "Price (USD)").
CURRENCY_WORDS = {"руб": "RUB", "рубл": "RUB", "rub": "RUB", "usd": "USD", "долл": "USD",
                  "eur": "EUR", "евро": "EUR"}  # fmt: skip
