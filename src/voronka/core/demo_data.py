"""The vocabulary of the demo data: names, companies, places, and the small rules that make
them look real (gender forms of surnames, INN check digits, transliteration for e-mails)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from voronka.accounts.models import RoleCode
from voronka.customers.validation import inn_is_valid

# --- people ----------------------------------------------------------------------------------

RU_MALE = ["Александр", "Алексей", "Андрей", "Артём", "Борис", "Вадим", "Виктор", "Владимир",
           "Дмитрий", "Евгений", "Игорь", "Илья", "Кирилл", "Максим", "Михаил", "Никита",
           "Николай", "Олег", "Павел", "Роман", "Сергей", "Станислав", "Тимур", "Юрий"]  # fmt: skip
RU_FEMALE = ["Алина", "Анастасия", "Анна", "Валерия", "Вера", "Дарья", "Екатерина", "Елена",
             "Жанна", "Ирина", "Ксения", "Лариса", "Людмила", "Марина", "Мария", "Наталья",
             "Ольга", "Полина", "Светлана", "Татьяна", "Юлия", "Яна"]  # fmt: skip
# Father's name → (male patronymic, female patronymic)
RU_PATRONYMICS = [("Александрович", "Александровна"), ("Алексеевич", "Алексеевна"),
                  ("Андреевич", "Андреевна"), ("Борисович", "Борисовна"),
                  ("Викторович", "Викторовна"), ("Владимирович", "Владимировна"),
                  ("Дмитриевич", "Дмитриевна"), ("Евгеньевич", "Евгеньевна"),
                  ("Иванович", "Ивановна"), ("Игоревич", "Игоревна"),
                  ("Михайлович", "Михайловна"), ("Николаевич", "Николаевна"),
                  ("Олегович", "Олеговна"), ("Петрович", "Петровна"),
                  ("Сергеевич", "Сергеевна"), ("Юрьевич", "Юрьевна")]  # fmt: skip
# Male forms; the female form is derived by :func:`female_surname`.
RU_SURNAMES = ["Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Васильев",
               "Соколов", "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев",
               "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
               "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв",
               "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв", "Сергеев", "Фомин",
               "Калинин", "Белов", "Медведев", "Ершов", "Тарасов", "Белоусов", "Ильин",
               "Гусев", "Титов", "Кузьмин", "Кудрявцев", "Баранов", "Куликов", "Крылов",
               "Островский", "Ковальский", "Залесский", "Вишневский", "Толстой", "Шевченко",
               "Ткаченко", "Бондаренко", "Черных", "Седых", "Долгих"]  # fmt: skip
EN_MALE = ["James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas",
           "Daniel", "Matthew", "Andrew", "Peter", "Oliver", "George", "Henry", "Samuel"]  # fmt: skip
EN_FEMALE = ["Mary", "Jennifer", "Linda", "Elizabeth", "Sarah", "Jessica", "Emily", "Emma",
             "Olivia", "Sophie", "Charlotte", "Hannah", "Laura", "Rachel", "Amelia", "Grace"]  # fmt: skip
EN_SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson",
               "Taylor", "Anderson", "Thomas", "Moore", "Martin", "Clark", "Walker", "Wright",
               "Hughes", "Evans", "Roberts", "Turner", "Cooper", "Parker", "Harris", "Baker",
               "Fischer", "Weber", "Schneider", "Müller"]  # fmt: skip

RU_POSITIONS = ["Генеральный директор", "Коммерческий директор", "Финансовый директор",
                "Главный бухгалтер", "Руководитель отдела закупок", "Менеджер по закупкам",
                "Менеджер по продажам", "Руководитель отдела продаж", "Офис-менеджер",
                "Технический директор", "Директор по маркетингу", "Юрист",
                "Специалист по логистике", "Руководитель проектов", "Инженер"]  # fmt: skip
EN_POSITIONS = ["CEO", "Managing Director", "CFO", "Head of Procurement", "Purchasing Manager",
                "Sales Director", "Operations Manager", "CTO", "Marketing Manager",
                "Office Manager", "Project Manager", "Logistics Coordinator"]  # fmt: skip
SOURCES = ["Сайт", "Рекомендация", "Выставка", "Холодный звонок", "Входящий звонок",
           "Реклама в поиске", "Партнёр", "Рассылка"]  # fmt: skip
TAGS = ["VIP", "Партнёр", "Дилер", "Тендер", "Новый клиент", "Постоянный клиент",
        "Выставка 2025", "Нужен звонок"]  # fmt: skip

# --- companies -------------------------------------------------------------------------------

RU_ADJECTIVES = ["Северные", "Южные", "Уральские", "Сибирские", "Волжские", "Балтийские",
                 "Новые", "Цифровые", "Первые", "Городские", "Промышленные", "Инженерные",
                 "Торговые", "Региональные", "Умные", "Открытые"]  # fmt: skip
RU_NOUNS = ["технологии", "системы", "решения", "сети", "ресурсы", "машины", "материалы",
            "продукты", "коммуникации", "инвестиции", "перевозки", "мастерские"]  # fmt: skip
RU_BRAND_HEADS = ["Альфа", "Техно", "Строй", "Агро", "Мед", "Энерго", "Транс", "Гео", "Нева",
                  "Волга", "Урал", "Прома", "Инфо", "Эко", "Сибирь", "Кедр"]  # fmt: skip
RU_BRAND_TAILS = ["Лайн", "Сервис", "Групп", "Инвест", "Трейд", "Логистик", "Софт", "Маркет",
                  "Снаб", "Пром", "Тех", "Холдинг"]  # fmt: skip
RU_FORMS = ["ООО", "ООО", "ООО", "ООО", "АО", "ПАО"]
EN_HEADS = ["Acme", "Northwind", "Blue Harbor", "Greenfield", "Summit", "Redwood", "Silverline",
            "Oakridge", "Brightstar", "Crescent", "Ironbridge", "Westgate", "Evergreen",
            "Pioneer", "Atlas", "Keystone"]  # fmt: skip
EN_TAILS = ["Logistics", "Systems", "Trading", "Foods", "Analytics", "Engineering", "Supplies",
            "Holdings", "Software", "Consulting", "Industries", "Networks"]  # fmt: skip
INDUSTRIES = ["Информационные технологии", "Розничная торговля", "Оптовая торговля",
              "Производство", "Строительство", "Логистика", "Финансы", "Медицина",
              "Образование", "Сельское хозяйство", "Энергетика", "Телекоммуникации",
              "Недвижимость", "Общественное питание", "Консалтинг"]  # fmt: skip


@dataclass(frozen=True)
class Place:
    region: str
    city: str
    inn_prefixes: tuple[str, ...]
    area_code: str  # landline prefix after +7
    weight: int


RU_PLACES = [
    Place("Москва", "г. Москва", ("7701", "7704", "7705", "7707", "7714", "7728", "7743"),
          "495", 30),
    Place("Санкт-Петербург", "г. Санкт-Петербург", ("7801", "7802", "7810", "7813"), "812", 15),
    Place("Московская область", "г. Химки", ("5047", "5029", "5032"), "498", 8),
    Place("Свердловская область", "г. Екатеринбург", ("6658", "6670", "6671"), "343", 6),
    Place("Новосибирская область", "г. Новосибирск", ("5402", "5406", "5410"), "383", 6),
    Place("Республика Татарстан", "г. Казань", ("1655", "1656", "1660"), "843", 6),
    Place("Нижегородская область", "г. Нижний Новгород", ("5260", "5262"), "831", 5),
    Place("Краснодарский край", "г. Краснодар", ("2308", "2309", "2310"), "861", 5),
    Place("Самарская область", "г. Самара", ("6315", "6316", "6317"), "846", 4),
    Place("Ростовская область", "г. Ростов-на-Дону", ("6161", "6163", "6164"), "863", 4),
    Place("Пермский край", "г. Пермь", ("5902", "5903", "5904"), "342", 3),
    Place("Приморский край", "г. Владивосток", ("2536", "2537", "2540"), "423", 3),
]  # fmt: skip


@dataclass(frozen=True)
class Foreign:
    region: str
    city: str
    tax_prefix: str
    phone_format: str  # "#" is a random digit
    domain: str
    street_format: str


FOREIGN = [
    Foreign("Великобритания", "London", "GB", "+44 20 7946 0###", "co.uk",
            "{n} {street} Street, London EC{d}A {d}BB"),
    Foreign("Германия", "Berlin", "DE", "+49 30 ########", "de",
            "{street}straße {n}, 10{d}{d}{d} Berlin"),
    Foreign("США", "New York", "US", "+1 212 55# ####", "com",
            "{n} {street} Avenue, New York, NY 100{d}{d}"),
    Foreign("Казахстан", "Алматы", "KZ", "+7 727 2## ## ##", "kz",
            "г. Алматы, пр. Абая, д. {n}"),
]  # fmt: skip
STREETS_RU = ["Тверская", "Ленина", "Мира", "Садовая", "Гагарина", "Советская", "Пушкина",
              "Профсоюзная", "Лесная", "Заводская", "Набережная", "Октябрьская"]  # fmt: skip
STREETS_EN = ["King", "Queen", "Park", "Market", "Church", "Mill", "Bridge", "Harbour"]

SEGMENTS = ["Малый бизнес", "Средний бизнес", "Крупный бизнес"]
CHANNELS = ["Телефон", "E-mail", "Telegram", "WhatsApp"]

# The demo team: username, first, last, role, team index (None: no team), e-mail.
DEMO_TEAMS = ["Продажи — Москва", "Продажи — Санкт-Петербург"]
DEMO_USERS = [
    ("olga", "Ольга", "Смирнова", RoleCode.HEAD_OF_SALES, 0),
    ("dmitry", "Дмитрий", "Волков", RoleCode.SALES_REP, 0),
    ("anna", "Анна", "Кузнецова", RoleCode.SALES_REP, 0),
    ("sergey", "Сергей", "Морозов", RoleCode.SALES_REP, 1),
    ("ekaterina", "Екатерина", "Новикова", RoleCode.SALES_REP, 1),
    ("maria", "Мария", "Лебедева", RoleCode.MARKETER, 1),
]

_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "ü": "ue",
    "ö": "oe", "ä": "ae", "ß": "ss",
}  # fmt: skip


def translit(text: str) -> str:
    """Latin letters for an e-mail or a domain ("Фёдоров" → "fedorov")."""
    out = "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in ".-") else "-" for ch in out)


def female_surname(male: str) -> str:
    """The woman's form of a Russian surname: Петров → Петрова, Островский → Островская;
    Шевченко and Черных do not change."""
    if male.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return male + "а"
    if male.endswith(("ский", "цкий")):
        return male[:-2] + "ая"
    if male.endswith("ой"):
        return male[:-2] + "ая"
    return male


def inn_checked(prefix: str, rng: random.Random) -> str:
    """A 10-digit organisation INN with the right check digit."""
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(9 - len(prefix)))
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11 % 10
    inn = body + str(check)
    assert inn_is_valid(inn)
    return inn


def fill(fmt: str, rng: random.Random) -> str:
    """``fmt`` with every "#" replaced by a random digit."""
    return "".join(str(rng.randint(0, 9)) if ch == "#" else ch for ch in fmt)
