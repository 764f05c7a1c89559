"""Which column of a file goes into which field, and the guess we start from.

A mapping is a list with one target key per column ("" = ignore). Headers are recognised in
English and Russian and as Google Contacts, Outlook and CRMs export them ("E-mail 1 - Value",
"Business Phone", "Название сделки"…); custom fields by their label or key. What each kind
of record offers is in imports.fields and imports.kinds; this module is the same for all."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from voronka.core.custom_fields import definitions
from voronka.core.errors import Collector
from voronka.core.text import fold
from voronka.imports.fields import IGNORE, NAME_TARGETS, Target
from voronka.imports.kinds import COMPANIES, CONTACTS, kind

CUSTOM_PREFIX = "cf:"
_DROP = re.compile(r"[\d\W_]+")


def normalize_header(header: str) -> str:
    return _DROP.sub(" ", fold(header)).strip()


def _custom_targets(entity: str) -> list[Target]:
    return [Target(f"{CUSTOM_PREFIX}{d.key}", d.label) for d in definitions(entity)]


def targets(entity: str) -> list[Target]:
    """Every field a column may go into, custom fields of the entity last."""
    k = kind(entity)
    extra = k.extra_targets() if k.extra_targets else []
    custom = _custom_targets(k.entity) if k.has_custom_fields else []
    return [*k.targets, *extra, *custom]


def target_labels(entity: str) -> dict[str, str]:
    return {t.key: str(t.label) for t in targets(entity)}


def _guess(header: str, entity: str, custom: dict[str, str]) -> tuple[str, int]:
    """(target, confidence): 3 custom field, 2 exact header, 1 keyword, 0 nothing."""
    norm = normalize_header(header)
    if not norm:
        return "", 0
    if norm in custom:
        return custom[norm], 3
    k = kind(entity)
    if norm in k.headers:
        return k.headers[norm], 2
    for fragment, target in k.keywords:
        if fragment in norm:
            return (k.refine(norm, target) if k.refine else target), 1
    return "", 0


def suggest(headers: list[str], entity: str) -> list[str]:
    """A target for each column, each single-valued field at most once (the surest column)."""
    custom: dict[str, str] = {}
    k = kind(entity)
    for d in definitions(k.entity) if k.has_custom_fields else []:
        custom[normalize_header(d.label)] = f"{CUSTOM_PREFIX}{d.key}"
        custom.setdefault(normalize_header(d.key), f"{CUSTOM_PREFIX}{d.key}")
    guesses = [_guess(h, entity, custom) for h in headers]
    multi = {t.key for t in targets(entity) if t.multi}
    best: dict[str, int] = {}
    for i, (target, confidence) in enumerate(guesses):
        if not target or target == IGNORE or target in multi:
            continue
        if target not in best or confidence > guesses[best[target]][1]:
            best[target] = i
    result = []
    for i, (target, _confidence) in enumerate(guesses):
        if target == IGNORE or not target:
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
    elif not errors.errors:
        for group, message in kind(entity).required:
            if not group & set(seen):
                errors.add("mapping", str(message))
    errors.raise_if_any()
    return mapping


__all__ = [
    "COMPANIES", "CONTACTS", "CUSTOM_PREFIX", "NAME_TARGETS", "Target", "clean_mapping",
    "normalize_header", "suggest", "target_labels", "targets",
]  # fmt: skip
