"""A realistic customer base of any size, loaded fast into the bench database.

Reference rows (teams, users, roles, custom fields, tags) go through the services, exactly as
the product writes them. The bulk (companies, contacts, their phones, e-mails, tags and the
audit entry of each creation) is generated here and loaded with PostgreSQL COPY or one SQLite
transaction of ``executemany``, with secondary indexes dropped during the load and rebuilt
after it (they cost ingest about 9×). Every bulk row has the form the services give it:
phones in E.164, e-mails lower-cased, ``search_text`` built like
``contact_search_text``/``company_search_text``; :func:`verify_sample` checks that on a sample
by running the services' own functions over the loaded rows.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection

from bench.deals_data import (
    DEAL_COLUMNS,
    DEAL_CONTACT_COLUMNS,
    DEAL_TABLES,
    HISTORY_COLUMNS,
    Stamper,
    deal_chunks,
    pipeline_shapes,
)
from voronka.core.text import digits, fold

GENERATOR_VERSION = 4
CHUNK = 20_000

# --- vocabularies ----------------------------------------------------------------------------

RU_SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв",
    "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов",
    "Пономарёв", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв",
    "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров",
    "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов",
    "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков",
    "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов",
    "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков",
    "Левин", "Митрофанов", "Воронов", "Аксёнов", "Софронов", "Мальцев", "Логинов", "Горшков",
    "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников",
    "Демин", "Хохлов", "Жданов", "Руднев", "Шубин", "Ширяев", "Брагин", "Ковальский",
    "Островский", "Вишневский", "Покровский", "Успенский", "Троицкий", "Белинский",
]  # fmt: skip
RU_MALE = [
    "Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Евгений", "Иван",
    "Михаил", "Артём", "Николай", "Владимир", "Павел", "Роман", "Олег", "Игорь", "Денис",
    "Антон", "Константин", "Виктор", "Юрий", "Илья", "Кирилл", "Никита", "Георгий", "Пётр",
    "Григорий", "Борис", "Вадим", "Степан", "Тимур", "Фёдор", "Глеб", "Лев", "Матвей",
]  # fmt: skip
RU_FEMALE = [
    "Елена", "Ольга", "Наталья", "Анна", "Татьяна", "Ирина", "Екатерина", "Светлана", "Мария",
    "Юлия", "Марина", "Анастасия", "Дарья", "Ксения", "Людмила", "Галина", "Валентина",
    "Виктория", "Алина", "Полина", "Вера", "Надежда", "Софья", "Алёна", "Кристина", "Евгения",
    "Любовь", "Маргарита", "Лариса", "Жанна", "Яна", "Вероника", "Олеся", "Диана", "Милана",
]  # fmt: skip
RU_PATRONYMIC_ROOTS = [
    "Александров", "Сергеев", "Дмитриев", "Андреев", "Алексеев", "Владимиров", "Николаев",
    "Михайлов", "Иванов", "Викторов", "Юрьев", "Петров", "Олегов", "Игорев", "Павлов",
    "Борисов", "Евгеньев", "Анатольев", "Геннадьев", "Валерьев", "Константинов", "Романов",
]  # fmt: skip
EN_SURNAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Clark", "Lewis", "Walker", "Hall", "Allen", "Young", "King", "Wright", "Scott", "Green",
    "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips",
    "Evans", "Turner", "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook",
    "Rogers", "Morgan", "Cooper", "Peterson", "Reed", "Bailey", "Bell", "Kelly", "Howard",
]  # fmt: skip
EN_MALE = [
    "James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Daniel",
    "Matthew", "Mark", "Paul", "Steven", "Andrew", "George", "Edward", "Peter", "Oliver",
]  # fmt: skip
EN_FEMALE = [
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen",
    "Emily", "Emma", "Olivia", "Sophie", "Grace", "Charlotte", "Alice", "Helen", "Laura",
]  # fmt: skip
POSITIONS = [
    "Генеральный директор", "Коммерческий директор", "Финансовый директор", "Главный бухгалтер",
    "Менеджер по закупкам", "Руководитель отдела закупок", "Офис-менеджер", "Юрист",
    "Руководитель IT-отдела", "Маркетолог", "Инженер", "Логист", "Head of Procurement", "CEO",
    "CFO", "Sales Manager", "Operations Director", "",
]  # fmt: skip
COMPANY_WORDS = [
    "Ромашка", "Вектор", "Альянс", "Гранит", "Меридиан", "Прогресс", "Северсталь", "Восток",
    "Техноком", "Стройинвест", "Агроторг", "Спектр", "Импульс", "Полюс", "Сигма", "Атлант",
    "Ресурс", "Лидер", "Горизонт", "Эталон", "Фаворит", "Орбита", "Магистраль", "Квант",
    "Глобус", "Зенит", "Аврора", "Феникс", "Оникс", "Балтика", "Nord", "Delta", "Alpha",
    "Pioneer", "Summit", "Vertex", "Bright", "Nova", "Atlas", "Union",
]  # fmt: skip
COMPANY_SUFFIXES = ["", "Групп", "Трейд", "Сервис", "Логистик", "Строй", "Софт", "Про", "Плюс"]
LEGAL_FORMS = ["ООО", "ООО", "ООО", "АО", "ПАО", "ИП"]
INDUSTRIES = [
    "Розничная торговля", "Оптовая торговля", "Строительство", "Производство", "IT",
    "Логистика", "Финансы", "Медицина", "Образование", "HoReCa", "Сельское хозяйство",
]  # fmt: skip
SIZES = ["1-10", "11-50", "51-250", "251-1000", "1000+"]
REGIONS = [
    "Москва", "Москва", "Москва", "Санкт-Петербург", "Санкт-Петербург", "Новосибирск",
    "Екатеринбург", "Казань", "Нижний Новгород", "Самара", "Краснодар", "Ростов-на-Дону",
]  # fmt: skip
REGION_OPTIONS = list(dict.fromkeys(REGIONS))
SOURCES = ["website", "referral", "cold_call", "exhibition", "import", "partner", ""]
EMAIL_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "rambler.ru"]
TAGS = [
    "VIP", "Партнёр", "Новый", "Холодный", "Тёплый", "Горячий", "Опт", "Розница", "Тендер",
    "Конференция 2025", "Рассылка", "Повторный", "Регионы", "Export", "Newsletter", "Key account",
    "Не звонить", "Юрлицо", "Физлицо", "Дилер",
]  # fmt: skip
MOBILE_CODES = [
    "900", "903", "905", "906", "909", "910", "912", "915", "916", "917", "919", "921", "925",
    "926", "929", "950", "951", "952", "960", "963", "965", "977", "985", "999",
]  # fmt: skip
LANDLINE_CODES = ["495", "499", "812", "343", "383", "843"]

_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def translit(text: str) -> str:
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())


def feminine(surname: str) -> str:
    """Петров → Петрова, Островский → Островская, Ильин → Ильина."""
    if surname.endswith("ский"):
        return surname[:-4] + "ская"
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    return surname


def inn10(rng: random.Random) -> str:
    """A 10-digit organisation INN with correct check digit."""
    body = [rng.randrange(10) for _ in range(9)]
    body[0] = rng.randrange(1, 10)
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(d * w for d, w in zip(body, weights, strict=True)) % 11 % 10
    return "".join(map(str, body)) + str(check)


def typed_phone(e164: str) -> str:
    """How a Russian user types +79161234567: "8 (916) 123-45-67"."""
    d = e164[2:]
    return f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:10]}"


# --- what the workloads need to know ---------------------------------------------------------


@dataclass
class DatasetInfo:
    """Who is who in the bench database, and search terms known to match."""

    scale: int
    admin_id: int = 0
    rep_id: int = 0
    rep_team_id: int = 0
    user_ids: list[int] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    owner_ids: list[int] = field(default_factory=list)
    name_fragment: str = ""
    email_fragment: str = ""
    phone_digits: str = ""
    phone_typed: str = ""
    tag: str = "VIP"
    region: str = "Санкт-Петербург"
    source: str = "website"
    pipeline_id: int = 0  # the default pipeline, where most deals are
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    generator_version: int = GENERATOR_VERSION

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- reference rows through the services -----------------------------------------------------


def create_reference(info: DatasetInfo) -> None:
    """Teams, ~50 users with roles, custom fields and tags, written by the services."""
    from voronka.accounts.models import Role, RoleCode
    from voronka.accounts.services import role_update, team_create, user_create
    from voronka.core.models import CustomFieldType
    from voronka.core.services import custom_field_create
    from voronka.customers.services import tag_create

    admin = user_create(
        username="bench_admin", password=None, email="admin@bench.example",
        first_name="Анна", last_name="Админова", role_code=RoleCode.ADMIN,
    )  # fmt: skip
    info.admin_id = admin.pk
    info.user_ids.append(admin.pk)
    # Sales reps see their team's records (the "rep whose role has scope team").
    role_update(role=Role.objects.get(code=RoleCode.SALES_REP), changes={"scope": "team"})
    rng = random.Random(7)
    for t in range(1, 6):
        team = team_create(name=f"Отдел продаж {t}")
        info.team_ids.append(team.pk)
        for u in range(10):
            role = RoleCode.HEAD_OF_SALES if u == 0 else RoleCode.SALES_REP
            female = rng.random() < 0.5
            last = rng.choice(RU_SURNAMES)
            user = user_create(
                username=f"rep{t}_{u}", password=None, email=f"rep{t}_{u}@bench.example",
                first_name=rng.choice(RU_FEMALE if female else RU_MALE),
                last_name=feminine(last) if female else last, role_code=role, team_id=team.pk,
            )  # fmt: skip
            info.user_ids.append(user.pk)
            info.owner_ids.append(user.pk)
            if t == 1 and u == 1:
                info.rep_id, info.rep_team_id = user.pk, team.pk
    marketer = user_create(username="marketer", password=None, role_code=RoleCode.MARKETER)
    info.user_ids.append(marketer.pk)
    custom_field_create(
        entity="customers.contact", label="Регион", key="region", type=CustomFieldType.SELECT,
        options=REGION_OPTIONS, actor=admin,
    )  # fmt: skip
    custom_field_create(
        entity="customers.contact", label="Бюджет", key="budget", type=CustomFieldType.MONEY,
        actor=admin,
    )  # fmt: skip
    for name in TAGS:
        tag_create(actor=admin, name=name)


# --- bulk generation -------------------------------------------------------------------------

# Column lists, in the order the generators yield values.
COMPANY_COLUMNS = [
    "id", "name", "legal_name", "inn", "industry", "size", "website", "phone", "email", "region",
    "owner_id", "custom", "search_text", "created_at", "updated_at",
]  # fmt: skip
CONTACT_COLUMNS = [
    "id", "first_name", "middle_name", "last_name", "company_id", "position", "birthday",
    "owner_id", "source", "email_consent", "sms_consent", "custom", "search_text", "created_at",
    "updated_at",
]  # fmt: skip
EMAIL_COLUMNS = ["id", "contact_id", "email", "kind"]
PHONE_COLUMNS = ["id", "contact_id", "phone", "kind"]
CONTACT_TAG_COLUMNS = ["id", "contact_id", "tag_id"]
AUDIT_COLUMNS = [
    "content_type_id", "object_id", "action", "changes", "actor_id", "channel",
    "created_at",
]  # fmt: skip
BULK_TABLES = [
    "customers_company", "customers_contact", "customers_contactemail",
    "customers_contactphone", "customers_contact_tags", "core_auditentry",
    *DEAL_TABLES,
]  # fmt: skip

START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
SPAN_SECONDS = 3 * 365 * 86400


class _Clock:
    """Creation times that grow with the id, as rows in a real database do."""

    def __init__(self, count: int, postgres: bool) -> None:
        self.step = SPAN_SECONDS / max(count, 1)
        self.stamp = Stamper(postgres)

    def at(self, index: int, jitter: float) -> str:
        return self.stamp((index + jitter) * self.step)


def _company_rows(
    scale: int, owners: Sequence[int], postgres: bool, rng: random.Random
) -> tuple[list[tuple[Any, ...]], list[str]]:
    count = max(1, scale // 5)
    clock = _Clock(count, postgres)
    rows: list[tuple[Any, ...]] = []
    names: list[str] = [""]  # names[id]
    empty = "{}"
    for i in range(1, count + 1):
        word = rng.choice(COMPANY_WORDS)
        suffix = rng.choice(COMPANY_SUFFIXES)
        name = f"{word}{'-' + suffix if suffix else ''}" + (f" {i}" if rng.random() < 0.5 else "")
        form = rng.choice(LEGAL_FORMS)
        legal = f'{form} "{name}"'
        inn = inn10(rng)
        slug = translit(word).lower()
        website = f"https://{slug}{i}.ru"
        phone = "+7" + rng.choice(LANDLINE_CODES) + str(rng.randrange(1_000_000, 10_000_000))
        email = f"info@{slug}{i}.ru"
        region = rng.choice(REGIONS)
        industry = rng.choice(INDUSTRIES)
        search = fold(" ".join(p for p in (name, legal, inn, email, digits(phone), region,
                                           industry) if p))  # fmt: skip
        created = clock.at(i, rng.random())
        rows.append((i, name, legal, inn, industry, rng.choice(SIZES), website, phone, email,
                     region, rng.choice(owners), empty, search, created, created))  # fmt: skip
        names.append(name)
    return rows, names


@dataclass
class _ContactChunk:
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    emails: list[tuple[Any, ...]] = field(default_factory=list)
    phones: list[tuple[Any, ...]] = field(default_factory=list)
    tags: list[tuple[Any, ...]] = field(default_factory=list)
    audit: list[tuple[Any, ...]] = field(default_factory=list)


class _Memo(dict[str, str]):
    """A small vocabulary's derived strings (folded, transliterated, JSON-quoted), computed once:
    the generator's cost per contact is what bounds a 1M dataset's build."""

    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, key: str) -> str:
        value = self[key] = self.fn(key)
        return value


def _pick(rng: random.Random, seq: Sequence[Any]) -> Any:
    """``rng.choice`` at a third of its cost (one float instead of rejection sampling)."""
    return seq[int(rng.random() * len(seq))]


def _contact_chunks(
    info: DatasetInfo,
    company_names: list[str],
    tag_ids: list[int],
    contact_type_id: int,
    postgres: bool,
    rng: random.Random,
) -> Iterator[_ContactChunk]:
    scale = info.scale
    owners = info.owner_ids
    team_members = set(owners[:10]) if info.rep_team_id else set()
    clock = _Clock(scale, postgres)
    companies = len(company_names) - 1
    true, false = (True, False) if postgres else (1, 0)
    email_id = phone_id = tag_row_id = 0
    vip_id = tag_ids[0]
    folded = _Memo(fold)
    latin = _Memo(translit)
    quoted = _Memo(lambda text: json.dumps(text, ensure_ascii=False))
    female_of = _Memo(feminine)
    random_ = rng.random
    chunk = _ContactChunk()
    for i in range(1, scale + 1):
        russian = random_() < 0.8
        female = random_() < 0.5
        if russian:
            base = _pick(rng, RU_SURNAMES)
            last = female_of[base] if female else base
            first = _pick(rng, RU_FEMALE if female else RU_MALE)
            middle = ""
            if random_() < 0.7:
                root = _pick(rng, RU_PATRONYMIC_ROOTS)
                middle = root + ("на" if female else "ич")
            latin_last, latin_first = latin[base], latin[first]
        else:
            last = _pick(rng, EN_SURNAMES)
            first = _pick(rng, EN_FEMALE if female else EN_MALE)
            middle = ""
            latin_last, latin_first = latin[last], latin[first]
        company_id = int(random_() * companies) + 1 if random_() < 0.8 else None
        company = company_names[company_id] if company_id else ""
        position = _pick(rng, POSITIONS)
        birthday = (
            (dt.date(1960, 1, 1) + dt.timedelta(days=int(random_() * 15000))).isoformat()
            if random_() < 0.3
            else None
        )
        owner = _pick(rng, owners) if random_() < 0.97 else None
        source = _pick(rng, SOURCES)
        custom = []
        if random_() < 0.6:
            custom.append(f'"region": {quoted[_pick(rng, REGIONS)]}')
        if random_() < 0.4:
            custom.append(f'"budget": {(int(random_() * 4990) + 10) * 1000}')
        emails: list[str] = []
        for _n in range(_pick(rng, (0, 1, 1, 1, 2))):
            email = (
                f"{latin_first[0]}.{latin_last}{int(random_() * 9998) + 1}"
                f"@{_pick(rng, EMAIL_DOMAINS)}"
            )
            if email not in emails:
                emails.append(email)
        phones: list[str] = []
        for n in range(_pick(rng, (1, 1, 1, 2, 3))):
            codes = MOBILE_CODES if n == 0 or random_() < 0.6 else LANDLINE_CODES
            phone = f"+7{_pick(rng, codes)}{int(random_() * 9_000_000) + 1_000_000}"
            if phone not in phones:
                phones.append(phone)
        # fold() of the joined parts, as contact_search_text does, folded part by part: e-mails
        # are already lower-case ASCII and a phone's digits are the E.164 form without "+".
        parts = [folded[last], folded[first]]
        if middle:
            parts.append(folded[middle])
        if company:
            parts.append(folded[company])
        if position:
            parts.append(folded[position])
        search = " ".join([*parts, *emails, *(p[1:] for p in phones)])
        created = clock.at(i, random_())
        chunk.contacts.append((
            i, first, middle, last, company_id, position, birthday, owner, source,
            true if random_() < 0.3 else false, true if random_() < 0.2 else false,
            "{" + ", ".join(custom) + "}", search, created, created,
        ))  # fmt: skip
        for n, email in enumerate(emails):
            email_id += 1
            chunk.emails.append((email_id, i, email, "work" if n == 0 else "personal"))
        for n, phone in enumerate(phones):
            phone_id += 1
            chunk.phones.append((phone_id, i, phone, "mobile" if n == 0 else "work"))
        chosen: set[int] = set()
        if random_() < 0.08:
            chosen.add(vip_id)
        for _n in range(_pick(rng, (0, 0, 1, 1, 2))):
            chosen.add(_pick(rng, tag_ids))
        for tag_id in sorted(chosen):
            tag_row_id += 1
            chunk.tags.append((tag_row_id, i, tag_id))
        # The same text json.dumps(snapshot, ensure_ascii=False) gives, without its cost.
        snapshot = (
            f'{{"first_name": {quoted[first]}, "last_name": {quoted[last]}, '
            f'"middle_name": {quoted[middle]}, "owner_id": {"null" if owner is None else owner}, '
            f'"company_id": {"null" if company_id is None else company_id}, '
            f'"emails": [{", ".join(f"{chr(34)}{e}{chr(34)}" for e in emails)}], '
            f'"phones": [{", ".join(f"{chr(34)}{p}{chr(34)}" for p in phones)}]}}'
        )
        chunk.audit.append((contact_type_id, i, "create", snapshot, owner, "import", created))
        if (
            not info.name_fragment
            and owner in team_members
            and emails
            and russian
            and phones[0][2] == "9"
        ):
            info.name_fragment = fold(base)[:6]
            info.email_fragment = emails[0].split("@")[0][2:]
            info.phone_digits = digits(phones[0])[2:9]
            info.phone_typed = typed_phone(phones[0])
        if len(chunk.contacts) >= CHUNK:
            yield chunk
            chunk = _ContactChunk()
    if chunk.contacts:
        yield chunk


# --- loading ---------------------------------------------------------------------------------


class _Loader:
    """Bulk insert through the database driver: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw: Any = connection.connection
        self.postgres = connection.vendor == "postgresql"
        self.frozen: set[str] = set()

    def truncate_for_freeze(self, tables: list[str]) -> None:
        """PostgreSQL: empty ``tables`` in the load's transaction so that COPY writes their rows
        already frozen (``COPY … FREEZE``: hint bits set, visibility map filled). Otherwise
        the first reads after the load dirty every page again, and the checkpoints writing them
        back run during the workloads: W6's commits waited on them (630–1,400 events/s from
        run to run). Only done when the tables, and every table a TRUNCATE … CASCADE would
        reach from them, hold no rows."""
        with self.raw.cursor() as cur:
            cur.execute(
                "WITH RECURSIVE refs(rel) AS (SELECT oid FROM pg_class WHERE relname = ANY(%s)"
                " AND relnamespace = current_schema()::regnamespace UNION SELECT c.conrelid"
                " FROM pg_constraint c JOIN refs ON c.confrelid = refs.rel WHERE c.contype = 'f')"
                " SELECT relname FROM pg_class WHERE oid IN (SELECT rel FROM refs)",
                [tables],
            )
            reached = [r[0] for r in cur.fetchall()]
            for table in reached:
                cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
                if cur.fetchone()[0]:
                    return
            cur.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        self.frozen = set(tables)

    def insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cols = ", ".join(columns)
        if self.postgres:
            freeze = " WITH (FREEZE)" if table in self.frozen else ""
            with (
                self.raw.cursor() as cur,
                cur.copy(f"COPY {table} ({cols}) FROM STDIN{freeze}") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            self.raw.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)

    def secondary_indexes(self) -> list[tuple[str, str]]:
        """(name, CREATE statement) of every index of the bulk tables that no constraint owns."""
        tables = tuple(BULK_TABLES)
        cur = self.raw.cursor()
        if self.postgres:
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = ANY(%s) AND indexname NOT IN"
                " (SELECT conname FROM pg_constraint)",
                [list(tables)],
            )
        else:
            marks = ", ".join("?" for _ in tables)
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                f" AND tbl_name IN ({marks})",
                tables,
            )
        return [(str(r[0]), str(r[1])) for r in cur.fetchall()]

    def execute(self, sql: str) -> None:
        cur = self.raw.cursor()
        cur.execute(sql)


def build(scale: int, *, seed: int = 1) -> DatasetInfo:
    """Fill the (freshly migrated, empty) bench database with ``scale`` contacts."""
    from django.contrib.contenttypes.models import ContentType

    from voronka.customers import search_index
    from voronka.customers.models import Contact, Tag

    info = DatasetInfo(scale=scale)
    started = time.perf_counter()
    create_reference(info)
    tag_ids = list(Tag.objects.order_by("id").values_list("id", flat=True))
    vip = Tag.objects.get(name_folded=fold(info.tag)).pk
    from voronka.accounts.models import User
    from voronka.sales.models import LostReason

    shapes = pipeline_shapes(User.objects.get(pk=info.admin_id))
    info.pipeline_id = shapes[0].id
    lost_reasons = list(LostReason.objects.values_list("id", flat=True))
    tag_ids.remove(vip)
    tag_ids.insert(0, vip)
    contact_type_id = ContentType.objects.get_for_model(Contact).pk
    rng = random.Random(seed)
    loader = _Loader()
    indexes = loader.secondary_indexes()
    search_index_names = {search_index.SORT_INDEX.format(table=t) for t in search_index.TABLES}
    counts = dict.fromkeys(BULK_TABLES, 0)
    generate_seconds = 0.0
    load_started = time.perf_counter()
    if loader.postgres:
        transaction_cm: Any = loader.raw.transaction()
    else:
        loader.raw.execute("PRAGMA foreign_keys = OFF")
        loader.raw.execute("PRAGMA synchronous = OFF")
        transaction_cm = _SqliteTransaction(loader.raw)
    with transaction_cm:
        for name, _sql in indexes:
            loader.execute(f"DROP INDEX {name}")
        if loader.postgres:
            # Foreign keys are checked by triggers per row; the generated data are consistent.
            loader.execute("SET LOCAL session_replication_role = replica")
            # The audit trail already holds the reference data's entries: loaded unfrozen.
            loader.truncate_for_freeze([t for t in BULK_TABLES if t != "core_auditentry"])
        else:
            for table in search_index.TABLES:
                for suffix in ("ai", "ad", "au"):
                    loader.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
        t0 = time.perf_counter()
        company_rows, company_names = _company_rows(scale, info.owner_ids, loader.postgres, rng)
        generate_seconds += time.perf_counter() - t0
        loader.insert("customers_company", COMPANY_COLUMNS, company_rows)
        counts["customers_company"] = len(company_rows)
        del company_rows
        chunks = _contact_chunks(
            info, company_names, tag_ids, contact_type_id, loader.postgres, rng
        )
        while True:
            t0 = time.perf_counter()
            chunk = next(chunks, None)
            generate_seconds += time.perf_counter() - t0
            if chunk is None:
                break
            for table, columns, rows in (
                ("customers_contact", CONTACT_COLUMNS, chunk.contacts),
                ("customers_contactemail", EMAIL_COLUMNS, chunk.emails),
                ("customers_contactphone", PHONE_COLUMNS, chunk.phones),
                ("customers_contact_tags", CONTACT_TAG_COLUMNS, chunk.tags),
                ("core_auditentry", AUDIT_COLUMNS, chunk.audit),
            ):
                loader.insert(table, columns, rows)
                counts[table] += len(rows)
        deals = deal_chunks(
            count=scale, contacts=scale, company_names=company_names, pipelines=shapes,
            owners=info.owner_ids, lost_reasons=lost_reasons, postgres=loader.postgres, rng=rng,
        )  # fmt: skip
        while True:
            t0 = time.perf_counter()
            deal_chunk = next(deals, None)
            generate_seconds += time.perf_counter() - t0
            if deal_chunk is None:
                break
            for table, columns, rows in (
                ("sales_deal", DEAL_COLUMNS, deal_chunk.deals),
                ("sales_deal_contacts", DEAL_CONTACT_COLUMNS, deal_chunk.contacts),
                ("sales_dealstagehistory", HISTORY_COLUMNS, deal_chunk.history),
            ):
                loader.insert(table, columns, rows)
                counts[table] += len(rows)
    info.seconds["load"] = time.perf_counter() - load_started
    info.seconds["generate"] = generate_seconds
    t0 = time.perf_counter()
    # Index builds sort: with the sort in memory (PostgreSQL's default maintenance_work_mem
    # is 64 MB) a million rows index faster. This connection only, set back before any
    # workload runs on it. (SQLite's page cache raised alike made its FTS rebuild 3× slower.)
    if loader.postgres:
        loader.execute("SET maintenance_work_mem = '512MB'")
    for _name, sql in indexes:
        if _name not in search_index_names:
            loader.execute(sql)
    info.seconds["indexes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if not loader.postgres:
        loader.raw.execute("PRAGMA foreign_keys = ON")
        loader.raw.execute("PRAGMA synchronous = NORMAL")
    # Re-creates the FTS triggers and, since they were missing, rebuilds the FTS tables, then
    # the search-text sort indexes (after the rebuild: see search_index._rebuild_fts).
    search_index.ensure()
    info.seconds["search_index"] = time.perf_counter() - t0
    if loader.postgres:
        loader.execute("RESET maintenance_work_mem")
    t0 = time.perf_counter()
    if loader.postgres:
        for table in BULK_TABLES:
            loader.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        loader.execute("ANALYZE")
        # Write the load's pages out now rather than in a checkpoint during the workloads.
        loader.execute("CHECKPOINT")
    else:
        loader.execute("PRAGMA analysis_limit = 2000")
        loader.execute("ANALYZE")
    info.seconds["analyze"] = time.perf_counter() - t0
    info.rows = counts
    info.seconds["total"] = time.perf_counter() - started
    return info


class _SqliteTransaction:
    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def __enter__(self) -> None:
        self.raw.execute("BEGIN")

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.raw.execute("ROLLBACK" if exc_type else "COMMIT")


def verify_sample(info: DatasetInfo, size: int = 200) -> list[str]:
    """Problems found by re-deriving a sample of loaded rows with the services' own code."""
    from voronka.core.text import normalize_email, normalize_phone
    from voronka.customers.models import Company, Contact
    from voronka.customers.services import company_search_text, contact_search_text

    rng = random.Random(3)
    ids = sorted({rng.randrange(1, info.scale + 1) for _ in range(size)})
    problems: list[str] = []
    contacts = Contact.objects.filter(pk__in=ids).select_related("company")
    for contact in contacts.prefetch_related("emails", "phones"):
        emails = [e.email for e in contact.emails.all()]
        phones = [p.phone for p in contact.phones.all()]
        expected = contact_search_text(contact, emails, phones)
        if contact.search_text != expected:
            problems.append(f"contact {contact.pk}: {contact.search_text!r} != {expected!r}")
        for phone in phones:
            if normalize_phone(phone) != phone:
                problems.append(f"contact {contact.pk}: phone {phone} is not E.164")
            if normalize_phone(typed_phone(phone) if phone[2] == "9" else phone) != phone:
                problems.append(f"contact {contact.pk}: {phone} typed does not normalize back")
        for email in emails:
            if normalize_email(email) != email:
                problems.append(f"contact {contact.pk}: e-mail {email} not normalized")
    for company in Company.objects.filter(pk__in=ids[: size // 4]):
        if company.search_text != company_search_text(company):
            problems.append(f"company {company.pk}: search text differs")
    return problems
