"""Duplicate contacts and companies: finding them, and merging several into one.

The finder groups records the user can see that share an e-mail or a phone (contacts, from the
indexed e-mail and phone tables), have very similar names at the same company (contacts), or
share an INN, a name once legal forms and quotes are dropped, an e-mail, a phone or a website
domain (companies). Each reason is one ``GROUP BY … HAVING COUNT(*) > 1`` over the visible
rows; groups that share a record are joined into one, so a pair found by e-mail and by phone
shows once with both reasons.

A merge keeps one record (the survivor) and deletes the others (the losers) in one transaction:
the chosen values are written through ``contact_update``/``company_update`` (so they are
validated and normalized like any edit, with the channel recorded); e-mails, phones, tags and
addresses are united; notes, the contacts of a merged company, and whatever other domains
registered in :mod:`voronka.core.merging` (deals, activities, leads) move to the survivor, and
any other row still pointing at a loser is repointed rather than lost with it. The
losers' history stays under their ids, with a "merge" entry saying where they went; the
survivor gets a "merge" entry with each loser's id and values. Merging needs ``can_write`` and
every record visible (404 otherwise); it does not need ``can_delete``: nothing the losers held
is lost, it moves to the survivor."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import CharField, Count, F, Func, Model, QuerySet, Value
from django.db.models.functions import Lower, Replace
from django.utils.translation import gettext as _

from voronka.core import audit, events
from voronka.core.custom_fields import definitions
from voronka.core.errors import Collector, Forbidden, NotFound, ServiceValidationError
from voronka.core.merging import run_movers
from voronka.core.models import AuditEntry, Channel, Note
from voronka.core.text import fold
from voronka.core.visibility import owner_ids_visible_to
from voronka.customers import services
from voronka.customers.models import Company, CompanyAddress, Contact, ContactEmail, ContactPhone
from voronka.customers.selectors import companies_visible_to, contacts_visible_to

MAX_RECORDS = 10  # a survivor and up to nine others in one merge
MAX_KEYS = 5000  # duplicate keys read per reason; a dirtier base is worked through in turns
PER_PAGE = 20

# --- the finder ------------------------------------------------------------------------------

CONTACT_REASONS = ("email", "phone", "name")
COMPANY_REASONS = ("inn", "name", "email", "phone", "website")

# Legal forms and words that make two spellings of one company differ.
_LEGAL_FORMS = {
    "ооо", "оао", "зао", "пао", "ао", "нао", "ип", "нко", "ано", "гк", "тд", "фгуп", "муп",
    "гуп", "llc", "ltd", "inc", "gmbh", "corp", "co", "plc", "jsc", "ojsc", "cjsc", "ag", "sa",
}  # fmt: skip
_LEGAL_PHRASES = (
    "общество с ограниченной ответственностью", "публичное акционерное общество",
    "закрытое акционерное общество", "открытое акционерное общество", "акционерное общество",
    "индивидуальный предприниматель", "limited liability company",
)  # fmt: skip
# Sites many unrelated companies have a page on: the same domain says nothing there.
SHARED_DOMAINS = {
    "vk.com", "t.me", "ok.ru", "facebook.com", "instagram.com", "youtube.com", "google.com",
    "sites.google.com", "yandex.ru", "tilda.ws", "wixsite.com", "linkedin.com", "avito.ru",
    "2gis.ru", "hh.ru", "github.com", "telegram.me", "wa.me", "twitter.com", "x.com",
}  # fmt: skip


_PHRASES_RE = re.compile("|".join(_LEGAL_PHRASES))
_WORD_RE = re.compile(r"\w+")
_HOST_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/?#]*@)?(?:www\.)?([^/:?#\s]+)")


def normalize_company_name(name: str) -> str:
    """ "ООО «Ромашка»", "Ромашка, ООО" and "romashka llc" → comparable keys ("ромашка")."""
    text = _PHRASES_RE.sub(" ", (name or "").casefold().replace("ё", "е"))
    return " ".join(w for w in _WORD_RE.findall(text) if w not in _LEGAL_FORMS)


def website_domain(url: str) -> str:
    """The site's host without "www.", or "" for none or for a site many companies share."""
    match = _HOST_RE.match((url or "").strip().lower())
    host = match.group(1).rstrip(".") if match else ""
    return "" if host in SHARED_DOMAINS or "." not in host else host


def _edit_distance_at_most_one(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


def similar_first_names(a: str, b: str) -> bool:
    """Same person's first name: equal, an initial of the other, or one letter apart."""
    x, y = fold(a).strip(". "), fold(b).strip(". ")
    if not x or not y:
        return False
    if x == y:
        return True
    if len(x) == 1 or len(y) == 1:
        return x[0] == y[0]
    return min(len(x), len(y)) >= 4 and _edit_distance_at_most_one(x, y)


def _middle_names_differ(a: str, b: str) -> bool:
    """Both given and plainly different (father and son may share the rest)."""
    return bool(a.strip() and b.strip()) and not similar_first_names(a, b)


@dataclass
class DuplicateGroup:
    """Records that look like one, with why (("email", "ivan@example.com"), …)."""

    ids: list[int]
    reasons: list[tuple[str, str]] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)


@dataclass
class DuplicatePage:
    groups: list[DuplicateGroup]
    page: int
    has_next: bool
    total: int
    truncated: bool  # a reason had more than MAX_KEYS duplicate keys


class _Clusters:
    """Union-find over record ids; each cluster keeps the reasons that joined it."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.reasons: dict[int, list[tuple[str, str]]] = {}

    def find(self, i: int) -> int:
        self.parent.setdefault(i, i)
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def add(self, ids: Iterable[int], reason: tuple[str, str]) -> None:
        members = sorted(set(ids))
        if len(members) < 2:
            return
        root = self.find(members[0])
        for other in members[1:]:
            r = self.find(other)
            if r != root:
                self.parent[r] = root
                self.reasons.setdefault(root, []).extend(self.reasons.pop(r, []))
        self.reasons.setdefault(root, []).append(reason)

    def groups(self) -> list[DuplicateGroup]:
        by_root: dict[int, list[int]] = {}
        for i in self.parent:
            by_root.setdefault(self.find(i), []).append(i)
        groups = [
            DuplicateGroup(ids=sorted(ids), reasons=list(dict.fromkeys(self.reasons[root])))
            for root, ids in by_root.items()
            if len(ids) > 1
        ]
        # Newest duplicates first: they are usually the ones an import or a form just made.
        groups.sort(key=lambda g: -g.ids[-1])
        return groups


def _restricted(user: Any) -> bool:
    return owner_ids_visible_to(user) is not None


def _shared_values(
    rows: QuerySet[Any], column: str, owner: str, visible: QuerySet[Any] | None
) -> tuple[list[tuple[str, int]], bool]:
    """(value, record id) for values ``column`` that two or more visible records share.

    ``GROUP BY column HAVING COUNT(*) > 1`` walks the column's index; the rows of the shared
    values are then read by the same index. Empty values never match."""
    if visible is not None:
        rows = rows.filter(**{f"{owner}__in": visible.values("pk")})
    rows = rows.exclude(**{column: ""})
    shared = rows.values(column).annotate(n=Count("*")).filter(n__gt=1).order_by(column)[:MAX_KEYS]
    keys = list(shared.values_list(column, flat=True))
    if not keys:
        return [], False
    pairs = rows.filter(**{f"{column}__in": keys}).values_list(column, owner).order_by(column)
    return list(pairs), len(keys) >= MAX_KEYS


def _by_value(pairs: Iterable[tuple[str, int]]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for value, pk in pairs:
        found.setdefault(value, set()).add(pk)
    return found


# Names repeat (a few thousand surnames cover most people): caching makes folding 100k of
# them in SQLite's GROUP BY about three times cheaper.
_fold_cached = functools.lru_cache(maxsize=65_536)(fold)


def _folded(column: str) -> Any:
    """``column`` case-folded with ё as е, computed by the database for GROUP BY: PostgreSQL's
    LOWER knows every alphabet; SQLite's knows only ASCII, so it gets Python's ``fold``."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function("vk_fold", 1, _fold_cached, deterministic=True)
        return Func(F(column), function="vk_fold", output_field=CharField())
    return Replace(Lower(column), Value("ё"), Value("е"))


def _contact_name_groups(visible: QuerySet[Contact]) -> list[tuple[list[int], str]]:
    """Contacts of one company whose last names match (case and ё aside) and first names are
    very similar. SQL finds the candidates with GROUP BY (company, folded last name) over the
    (company, last name) index; only their rows are read to compare first names."""
    named = visible.filter(company_id__isnull=False).exclude(last_name="")
    candidates = (
        named.annotate(last_key=_folded("last_name"))
        .values("company_id", "last_key")
        .annotate(n=Count("*"))
        .filter(n__gt=1)
        .order_by()
    )
    companies = {c for c, _k in candidates.values_list("company_id", "last_key")[:MAX_KEYS]}
    if not companies:
        return []
    rows = (
        named.filter(company_id__in=companies)
        .values_list("pk", "company_id", "last_name", "first_name", "middle_name")
        .order_by("company_id", "pk")
    )
    by_key: dict[tuple[int, str], list[tuple[int, str, str, str]]] = {}
    for pk, company_id, last, first, middle in rows:
        by_key.setdefault((company_id, fold(last)), []).append((pk, last, first, middle))
    found: list[tuple[list[int], str]] = []
    for people in by_key.values():
        for i, (pk, last, first, middle) in enumerate(people):
            for other_pk, _last, other_first, other_middle in people[i + 1 :]:
                if similar_first_names(first, other_first) and not _middle_names_differ(
                    middle, other_middle
                ):
                    found.append(([pk, other_pk], f"{last} {first}".strip()))
    return found


def _find_contact_groups(user: Any, reason: str) -> tuple[list[DuplicateGroup], bool]:
    visible = contacts_visible_to(user)
    limit_to = visible if _restricted(user) else None
    clusters = _Clusters()
    truncated = False
    if reason in ("", "email"):
        pairs, cut = _shared_values(ContactEmail.objects.all(), "email", "contact_id", limit_to)
        truncated |= cut
        for value, ids in _by_value(pairs).items():
            clusters.add(ids, ("email", value))
    if reason in ("", "phone"):
        pairs, cut = _shared_values(ContactPhone.objects.all(), "phone", "contact_id", limit_to)
        truncated |= cut
        for value, ids in _by_value(pairs).items():
            clusters.add(ids, ("phone", value))
    if reason in ("", "name"):
        for pair, name in _contact_name_groups(visible):
            clusters.add(pair, ("name", name))
    return clusters.groups(), truncated


def _find_company_groups(user: Any, reason: str) -> tuple[list[DuplicateGroup], bool]:
    visible = companies_visible_to(user)
    clusters = _Clusters()
    truncated = False
    for column in ("inn", "email", "phone"):
        if reason in ("", column):
            pairs, cut = _shared_values(visible, column, "pk", None)
            truncated |= cut
            for value, ids in _by_value(pairs).items():
                clusters.add(ids, (column, value))
    # Names and domains need normalizing that SQL cannot do on both databases; companies are
    # about a fifth of the contacts, and only two short columns are read, in one query.
    if reason in ("", "name", "website"):
        names: dict[str, set[int]] = {}
        shown: dict[str, str] = {}
        domains: dict[str, set[int]] = {}
        for pk, name, site in visible.values_list("pk", "name", "website").order_by():
            if reason != "website" and (key := normalize_company_name(name)):
                if key in names:
                    names[key].add(pk)
                else:
                    names[key], shown[key] = {pk}, name
            if reason != "name" and site and (domain := website_domain(site)):
                domains.setdefault(domain, set()).add(pk)
        for key, ids in names.items():
            if len(ids) > 1:
                clusters.add(ids, ("name", shown[key]))
        for domain, ids in domains.items():
            if len(ids) > 1:
                clusters.add(ids, ("website", domain))
    return clusters.groups(), truncated


def _page(
    groups: list[DuplicateGroup], truncated: bool, page: int, per_page: int,
    load: Callable[[list[int]], dict[int, Any]],
) -> DuplicatePage:  # fmt: skip
    page = max(page, 1)
    chosen = groups[(page - 1) * per_page : page * per_page]
    records = load([pk for g in chosen for pk in g.ids])
    for g in chosen:
        g.records = [records[pk] for pk in g.ids if pk in records]
    return DuplicatePage(
        groups=[g for g in chosen if len(g.records) > 1],
        page=page,
        has_next=len(groups) > page * per_page,
        total=len(groups),
        truncated=truncated,
    )


def contact_duplicates(
    user: Any, *, reason: str = "", page: int = 1, per_page: int = PER_PAGE
) -> DuplicatePage:
    """Groups of likely duplicate contacts among those the user can see, newest first."""
    if reason not in ("", *CONTACT_REASONS):
        raise ServiceValidationError.single("reason", _("unknown reason"))
    groups, truncated = _find_contact_groups(user, reason)

    def load(ids: list[int]) -> dict[int, Any]:
        qs = contacts_visible_to(user).filter(pk__in=ids).select_related("company", "owner")
        return {c.pk: c for c in qs.prefetch_related("emails", "phones")}

    return _page(groups, truncated, page, per_page, load)


def company_duplicates(
    user: Any, *, reason: str = "", page: int = 1, per_page: int = PER_PAGE
) -> DuplicatePage:
    """Groups of likely duplicate companies among those the user can see, newest first."""
    if reason not in ("", *COMPANY_REASONS):
        raise ServiceValidationError.single("reason", _("unknown reason"))
    groups, truncated = _find_company_groups(user, reason)

    def load(ids: list[int]) -> dict[int, Any]:
        qs = companies_visible_to(user).filter(pk__in=ids).select_related("owner")
        return {c.pk: c for c in qs}

    return _page(groups, truncated, page, per_page, load)


# --- what a merge keeps ----------------------------------------------------------------------


@dataclass(frozen=True)
class MergeKind:
    """What differs between merging contacts and merging companies."""

    key: str
    model: type[Contact] | type[Company]
    entity: str
    event: str
    scalars: tuple[str, ...]
    lists: tuple[str, ...]
    prefetch: tuple[str, ...]
    visible: Callable[[Any], QuerySet[Any]]
    snapshot: Callable[[Any], dict[str, Any]]


# Fields with one value, in the order the compare page shows them.
CONTACT_SCALARS = (
    "last_name", "first_name", "middle_name", "company_id", "position", "birthday", "owner_id",
    "source", "email_consent", "sms_consent",
)  # fmt: skip
COMPANY_SCALARS = (
    "name", "legal_name", "inn", "industry", "size", "website", "phone", "email", "region",
    "owner_id",
)  # fmt: skip

CONTACT = MergeKind(
    key="contact",
    model=Contact,
    entity=services.CONTACT_ENTITY,
    event="contact.merged",
    scalars=CONTACT_SCALARS,
    lists=("emails", "phones", "tags"),
    prefetch=("emails", "phones", "tags"),
    visible=contacts_visible_to,
    snapshot=services.contact_snapshot,
)
COMPANY = MergeKind(
    key="company",
    model=Company,
    entity=services.COMPANY_ENTITY,
    event="company.merged",
    scalars=COMPANY_SCALARS,
    lists=("tags", "addresses"),
    prefetch=("tags", "addresses"),
    visible=companies_visible_to,
    snapshot=services.company_snapshot,
)
KINDS = {"contact": CONTACT, "company": COMPANY}


def is_empty(value: Any) -> bool:
    """Nothing worth keeping: no text, no date, no link, an unticked consent."""
    return value is None or value == "" or value == [] or value is False


def list_items(record: Any, name: str) -> list[Any]:
    """A record's e-mails, phones, tags or addresses in the form the services take."""
    if name == "emails":
        return [{"email": e.email, "kind": e.kind} for e in record.emails.all()]
    if name == "phones":
        return [{"phone": p.phone, "kind": p.kind} for p in record.phones.all()]
    if name == "tags":
        return sorted((t.name for t in record.tags.all()), key=fold)
    return [{"kind": a.kind, "address": a.address} for a in record.addresses.all()]


def _item_key(name: str, item: Any) -> Any:
    if name == "emails":
        return item["email"]
    if name == "phones":
        return item["phone"]
    if name == "tags":
        return fold(item)
    return (item["kind"], fold(item["address"]))


def united(name: str, records: Iterable[Any]) -> list[Any]:
    """Every record's items once, the survivor's first (records come survivor first)."""
    seen: dict[Any, Any] = {}
    for record in records:
        for item in list_items(record, name):
            seen.setdefault(_item_key(name, item), item)
    return list(seen.values())


def custom_keys(kind: MergeKind, records: Iterable[Any]) -> list[str]:
    """Custom fields that are defined and have a value on at least one record, in order."""
    have = {k for r in records for k, v in (r.custom or {}).items() if not is_empty(v)}
    return [cf.key for cf in definitions(kind.entity) if cf.key in have]


def value_of(record: Any, name: str) -> Any:
    if name.startswith("custom."):
        return (record.custom or {}).get(name[7:])
    return getattr(record, name)


def default_sources(kind: MergeKind, ordered: list[Any]) -> dict[str, int]:
    """Which record each field's value comes from unless chosen: the survivor's when it has
    one, otherwise the first other record's that has one. ``ordered`` is survivor first."""
    names = [*kind.scalars, *(f"custom.{k}" for k in custom_keys(kind, ordered))]
    sources: dict[str, int] = {}
    for name in names:
        source = next((r for r in ordered if not is_empty(value_of(r, name))), ordered[0])
        sources[name] = source.pk
    return sources


class _Explicit:
    """A value the caller typed, as opposed to a pointer at one of the records."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _choice(raw: Any, ids: set[int], survivor_id: int, *, lists: bool) -> int | str | _Explicit:
    """ "survivor", a merged record's id (number or digits), "union" (lists), {"value": x} or
    any other value, which is taken as the value itself."""
    if raw == "survivor":
        return survivor_id
    if lists and raw == "union":
        return "union"
    if isinstance(raw, dict) and set(raw) == {"value"}:
        return _Explicit(raw["value"])
    if isinstance(raw, int) and not isinstance(raw, bool) and raw in ids:
        return raw
    if isinstance(raw, str) and raw.strip().isdigit() and int(raw) in ids:
        return int(raw)
    return _Explicit(raw)


def _flatten(values: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, raw in values.items():
        if name == "custom" and isinstance(raw, dict):
            flat.update({f"custom.{k}": v for k, v in raw.items()})
        else:
            flat[str(name)] = raw
    return flat


def _changes(
    kind: MergeKind, ordered: list[Any], values: Mapping[str, Any], errors: Collector
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What to write on the survivor (the service's ``changes``) and, for the history, where
    each chosen value came from."""
    survivor, by_id = ordered[0], {r.pk: r for r in ordered}
    chosen = _flatten(values)
    defined = {cf.key for cf in definitions(kind.entity)}
    for name in chosen:
        known = name in kind.scalars or name in kind.lists
        if not known and not (name.startswith("custom.") and name[7:] in defined):
            errors.add(name, _("unknown field") if not name.startswith("custom.")
                       else _("unknown custom field"))  # fmt: skip
    sources: dict[str, Any] = dict(default_sources(kind, ordered))
    for name in kind.lists:
        sources[name] = "union"
    sources.update(
        {n: _choice(v, set(by_id), survivor.pk, lists=n in kind.lists) for n, v in chosen.items()}
    )
    changes: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    origin: dict[str, Any] = {}
    for name, source in sources.items():
        if name not in kind.scalars and name not in kind.lists and not name.startswith("custom."):
            continue
        if isinstance(source, _Explicit):
            value = source.value
        elif source == "union":
            value = united(name, ordered)
        elif name in kind.lists:
            value = list_items(by_id[source], name)
        else:
            value = value_of(by_id[source], name)
        if name in kind.lists:
            current = [_item_key(name, i) for i in list_items(survivor, name)]
            keyed = (
                [_item_key(name, i) for i in value]
                if isinstance(value, list) and not isinstance(source, _Explicit)
                else None
            )
            if keyed == current:
                continue
            changes[name] = value
        elif value == value_of(survivor, name):
            continue
        elif name.startswith("custom."):
            custom[name[7:]] = value
        else:
            changes[name] = value
        origin[name] = "value" if isinstance(source, _Explicit) else source
    if custom:
        changes["custom"] = custom
    return changes, origin


# --- the merge service ---------------------------------------------------------------------


def _clean_ids(survivor_id: Any, other_ids: Any) -> tuple[int, list[int]]:
    errors = Collector()
    try:
        survivor = int(survivor_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(f"record {survivor_id} not found") from exc
    others: list[int] = []
    if not isinstance(other_ids, list | tuple) or not all(
        (isinstance(i, int) and not isinstance(i, bool)) or (isinstance(i, str) and i.isdigit())
        for i in other_ids
    ):
        errors.add("others", _("must be a list of record ids"))
    else:
        others = list(dict.fromkeys(int(i) for i in other_ids))
        if survivor in others:
            errors.add("others", _("a record cannot be merged into itself"))
        elif not others:
            errors.add("others", _("choose at least one record to merge"))
        elif len(others) >= MAX_RECORDS:
            errors.add("others", _("at most %(n)d records at once") % {"n": MAX_RECORDS - 1})
    errors.raise_if_any()
    return survivor, others


def load_for_merge(kind: MergeKind, user: Any, ids: list[int], *, lock: bool = False) -> list[Any]:
    """The records in the order of ``ids``, every one visible to the user (NotFound if not)
    and changeable by them (Forbidden for a read-only role)."""
    qs = kind.visible(user).filter(pk__in=ids)
    if lock:
        qs = qs.select_for_update()  # no outer joins: PostgreSQL refuses to lock their rows
    elif kind is CONTACT:
        qs = qs.select_related("company", "owner")
    found = {r.pk: r for r in qs.prefetch_related(*kind.prefetch)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"{kind.key} {missing[0]} not found")
    if not user.can_write:
        raise Forbidden(_("your role is read-only"))
    return [found[i] for i in ids]


def _move_notes(model: type[Model], loser_pk: int, survivor_pk: int) -> int:
    ct = ContentType.objects.get_for_model(model)
    return Note.objects.filter(content_type=ct, object_id=loser_pk).update(object_id=survivor_pk)


def _move_company_contacts(loser_pk: int, survivor: Company, actor: Any, channel: str) -> int:
    """Every contact of the loser (visible or not) now works at the survivor; their history
    says so and their search text carries the survivor's name."""
    moved = list(Contact.objects.filter(company_id=loser_pk).prefetch_related("emails", "phones"))
    if not moved:
        return 0
    Contact.objects.filter(pk__in=[c.pk for c in moved]).update(company_id=survivor.pk)
    for contact in moved:
        contact.company = survivor
        contact.search_text = services.contact_search_text(
            contact,
            [e.email for e in contact.emails.all()],
            [p.phone for p in contact.phones.all()],
        )
    Contact.objects.bulk_update(moved, ["search_text"], batch_size=500)
    ct = ContentType.objects.get_for_model(Contact)
    AuditEntry.objects.bulk_create(
        [AuditEntry(content_type=ct, object_id=c.pk, action="update",
                    changes={"company_id": [loser_pk, survivor.pk]},
                    actor_id=getattr(actor, "pk", None), channel=channel) for c in moved],
        batch_size=1000,
    )  # fmt: skip
    return len(moved)


def _move_unregistered(
    model: type[Contact] | type[Company], loser_pk: int, survivor_pk: int
) -> dict[str, int]:
    """Safety net after the movers: any other row still pointing at the loser (a domain that
    registered no mover) is pointed at the survivor, so a merge never deletes it by CASCADE.
    Many-to-many links keep one per pair; a one-to-one row moves only when the survivor has
    none. E-mails, phones, addresses and tags are not touched: the chosen values replaced
    them. No history is written for these rows: a mover should be registered for that."""
    own = {ContactEmail, ContactPhone, CompanyAddress, model.tags.through}
    moved: dict[str, int] = {}
    for rel in model._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete or rel.many_to_many:
            continue
        related: Any = rel.related_model
        if related in own:
            continue
        column = rel.field.attname  # type: ignore[union-attr]
        rows = related._base_manager.filter(**{column: loser_pk})
        if rel.one_to_one and related._base_manager.filter(**{column: survivor_pk}).exists():
            continue  # the survivor's own row stays; the loser's goes with the loser
        if related._meta.auto_created:  # the table behind someone's many-to-many field
            other = next(
                f.attname for f in related._meta.concrete_fields
                if f.is_relation and f.attname != column
            )  # fmt: skip
            taken = related._base_manager.filter(**{column: survivor_pk}).values(other)
            rows.filter(**{f"{other}__in": taken}).delete()
        n = rows.update(**{column: survivor_pk})
        if n:
            moved[related._meta.label_lower] = n
    return moved


def _update(kind: MergeKind, actor: Any, record: Any, changes: dict[str, Any], channel: str) -> Any:
    if kind is CONTACT:
        return services.contact_update(
            actor=actor, contact=record, changes=changes, channel=channel
        )
    return services.company_update(actor=actor, company=record, changes=changes, channel=channel)


def _merge(
    kind: MergeKind, *, actor: Any, survivor_id: Any, other_ids: Any,
    values: Mapping[str, Any] | None, channel: str,
) -> Any:  # fmt: skip
    survivor_pk, others = _clean_ids(survivor_id, other_ids)
    if values is not None and not isinstance(values, Mapping):
        raise ServiceValidationError.single("values", _("must be an object keyed by field"))
    with transaction.atomic():
        ordered = load_for_merge(kind, actor, [survivor_pk, *others], lock=True)
        errors = Collector()
        changes, origin = _changes(kind, ordered, values or {}, errors)
        errors.raise_if_any()
        losers = ordered[1:]
        snapshots = [{"id": r.pk, "values": kind.snapshot(r)} for r in losers]
        survivor = ordered[0]
        if changes:
            survivor = _update(kind, actor, survivor, changes, channel)
        moved: dict[str, int] = {}
        for loser in losers:
            counts = {"notes": _move_notes(kind.model, loser.pk, survivor.pk)}
            if kind is COMPANY:
                counts["customers.contacts"] = _move_company_contacts(
                    loser.pk, survivor, actor, channel
                )
            counts.update(run_movers(kind.entity, loser_pk=loser.pk, survivor_pk=survivor.pk,
                                     actor=actor, channel=channel))  # fmt: skip
            counts.update(_move_unregistered(kind.model, loser.pk, survivor.pk))
            for key, n in counts.items():
                if n:
                    moved[key] = moved.get(key, 0) + n
            audit.record(loser, action="merge", changes={"merged_into": survivor.pk},
                         actor=actor, channel=channel)  # fmt: skip
            loser.delete()
        merged_ids = [s["id"] for s in snapshots]
        audit.record(
            survivor, action="merge", actor=actor, channel=channel,
            changes={"merged": snapshots, "chosen": origin, "moved": moved},
        )  # fmt: skip
        events.publish(
            kind.event, entity=kind.entity, entity_id=survivor.pk, actor=actor, channel=channel,
            payload={"survivor_id": survivor.pk, "merged_ids": merged_ids,
                     "changed": sorted(changes), "moved": moved},
        )  # fmt: skip
    return kind.model.objects.prefetch_related(*kind.prefetch).get(pk=survivor.pk)


def contact_merge(
    *, actor: Any, survivor_id: Any, other_ids: Any, values: Mapping[str, Any] | None = None,
    channel: str = Channel.UI,
) -> Contact:  # fmt: skip
    """Merge the contacts ``other_ids`` into ``survivor_id`` and return the survivor.

    ``values`` says where a field's value comes from: ``"survivor"``, the id of a merged
    contact, or a value of its own (``{"value": x}`` when x could be read as an id); e-mails,
    phones and tags also take ``"union"``, their default. Unnamed fields keep the survivor's
    value, or take another contact's when the survivor has none."""
    return _merge(CONTACT, actor=actor, survivor_id=survivor_id, other_ids=other_ids,
                  values=values, channel=channel)  # fmt: skip


def company_merge(
    *, actor: Any, survivor_id: Any, other_ids: Any, values: Mapping[str, Any] | None = None,
    channel: str = Channel.UI,
) -> Company:  # fmt: skip
    """Merge the companies ``other_ids`` into ``survivor_id`` (see :func:`contact_merge`);
    the merged companies' contacts move to the survivor."""
    return _merge(COMPANY, actor=actor, survivor_id=survivor_id, other_ids=other_ids,
                  values=values, channel=channel)  # fmt: skip


__all__ = [
    "COMPANY",
    "CONTACT",
    "KINDS",
    "DuplicateGroup",
    "DuplicatePage",
    "MergeKind",
    "company_duplicates",
    "company_merge",
    "contact_duplicates",
    "contact_merge",
    "default_sources",
    "load_for_merge",
    "normalize_company_name",
    "united",
    "website_domain",
]
