"""What every kind's importer does the same way: compile the mapping, read the cells of a
row that several kinds share (owner, tags, names, custom fields), and name a field in a reason.

Parsing is pure Python over the row's strings: ``parse_chunk`` runs in the reader thread
(imports.runner), so nothing here may touch the database after ``__init__``."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from django.utils.translation import gettext as _

from voronka.core.custom_fields import clean_value, definitions
from voronka.core.models import CustomField
from voronka.core.text import fold
from voronka.imports import cleaning
from voronka.imports.kinds import kind
from voronka.imports.mapping import CUSTOM_PREFIX, target_labels
from voronka.imports.pipeline import Context

_HINT = re.compile(r"\s*\([^)]*\)$")


class Importer:
    """The base of every kind's importer; a subclass sets ``kind`` and writes ``parse``,
    ``process``, ``preview`` and ``preview_labels``."""

    kind = ""

    def __init__(self, ctx: Context, mapping: list[str]) -> None:
        self.ctx = ctx
        info = kind(self.kind)
        self.entity = info.entity
        self.columns: dict[str, list[int]] = defaultdict(list)
        self.custom: list[tuple[str, int]] = []
        for i, key in enumerate(mapping):
            if key.startswith(CUSTOM_PREFIX):
                self.custom.append((key[len(CUSTOM_PREFIX) :], i))
            elif key:
                self.columns[key].append(i)
        self.labels = target_labels(self.kind)
        self.fields: dict[str, CustomField] = (
            {d.key: d for d in definitions(self.entity)} if info.has_custom_fields else {}
        )
        self.required_custom = [k for k, d in self.fields.items() if d.required]

    # --- reading cells ---------------------------------------------------------------------

    def text(self, values: list[str], key: str) -> str:
        """The field's text: the first non-empty column mapped to it, stripped."""
        indexes = self.columns.get(key)
        return cleaning.cell(values, indexes).strip() if indexes else ""

    def label(self, key: str) -> str:
        """The field as a reason names it: "Stage (column “Этап”)" when a column feeds it."""
        label = _HINT.sub("", self.labels.get(key, key))  # "Stage (name)": "Stage"
        indexes = self.columns.get(key)
        headers = self.ctx.headers
        if indexes and indexes[0] < len(headers) and fold(headers[indexes[0]]) != fold(label):
            return _("%(field)s (column “%(column)s”)") % {
                "field": label, "column": headers[indexes[0]],
            }  # fmt: skip
        return label

    def read_owner(self, values: list[str], errors: list[str], label: str = "") -> int | None:
        """The owner a row names (username, e-mail or full name), None when it names none."""
        text = self.text(values, "owner")
        if not text:
            return None
        try:
            return self.ctx.owners.resolve(text)
        except ValueError as exc:
            errors.append(f"{label or self.labels['owner']}: {exc}")
            return None

    def read_tags(self, values: list[str], errors: list[str], label: str = "") -> list[str]:
        names = [n for i in self.columns.get("tags", []) for n in cleaning.split_tags(values[i])]
        if any(len(n) > 64 for n in names):
            errors.append(f"{label or self.labels['tags']}: {_('a tag is at most 64 characters')}")
        return list(dict.fromkeys(names))

    def name_parts(self, values: list[str]) -> tuple[str, str, str, str] | None:
        """(first, middle, last, target) from the full-name column, if one is filled."""
        for key, last_first in (("fio", True), ("full_name", False)):
            text = self.text(values, key)
            if text:
                return (*cleaning.split_full_name(text, last_first=last_first), key)
        return None

    def read_custom(self, values: list[str], errors: list[str]) -> dict[str, Any]:
        """Custom field values of the row, each cleaned by its definition."""
        result: dict[str, Any] = {}
        for key, raw in cleaning.custom_values(values, self.custom).items():
            field_def = self.fields.get(key)
            if field_def is None:
                continue
            try:
                value = clean_value(field_def, raw)
            except ValueError as exc:
                errors.append(f"{field_def.label}: {exc}")
                continue
            if value is not None:
                result[key] = value
        return result

    def missing_required(self, custom: dict[str, Any]) -> str:
        missing = [self.fields[k].label for k in self.required_custom if k not in custom]
        return "; ".join(f"{label}: {_('this field is required')}" for label in missing)

    # --- a chunk ---------------------------------------------------------------------------

    def parse(self, number: int, values: list[str]) -> Any:
        """The row as a draft, or the reason it is rejected ("Field: what is wrong; …")."""
        raise NotImplementedError

    def parse_chunk(self, rows: list[tuple[int, list[str]]]) -> list[Any]:
        """Every row parsed; pure Python, no database (so it may run in a reader thread)."""
        return [self.parse(number, values) for number, values in rows]

    @staticmethod
    def tag_objects(names: list[str]) -> dict[str, Any]:
        """Tag objects by folded name, created when missing (tags_get_or_create)."""
        from voronka.customers.services import tags_get_or_create

        if not names:
            return {}
        return {fold(t.name): t for t in tags_get_or_create(dict.fromkeys(names))}


__all__ = ["Importer"]
