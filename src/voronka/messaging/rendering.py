"""Rendering message templates written by users, safely.

Templates use Django's syntax (``{{ contact.first_name }}``, ``{% if deal %}``) on an engine
of their own: only the harmless built-in tags and filters, no ``{% load %}`` of custom tags,
no ``{% include %}``/``{% extends %}`` (no loader reaches the project's files), no
``{% debug %}``. The context holds plain dicts and strings, never model instances, so a
template cannot call a method on a record."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.utils.html import strip_tags

# Tags a message needs; everything else (load, debug, url, csrf_token, include…) is left out.
ALLOWED_TAGS = {
    "autoescape", "comment", "cycle", "filter", "firstof", "for", "if", "ifchanged", "now",
    "spaceless", "templatetag", "verbatim", "widthratio", "with",
}  # fmt: skip
DENIED_FILTERS = {"pprint", "safeseq"}


def _library() -> Library:
    lib = Library()
    lib.tags = {k: v for k, v in defaulttags.register.tags.items() if k in ALLOWED_TAGS}
    lib.filters = {
        k: v for k, v in defaultfilters.register.filters.items() if k not in DENIED_FILTERS
    }
    return lib


def _engine(autoescape: bool) -> Engine:
    engine = Engine(
        loaders=[("django.template.loaders.locmem.Loader", {})],
        libraries={},
        builtins=[],
        autoescape=autoescape,
        string_if_invalid="",
    )
    engine.template_builtins = [_library()]
    return engine


_ENGINES = {True: _engine(True), False: _engine(False)}


def check(source: str) -> str | None:
    """None when ``source`` compiles; otherwise the syntax error to show next to the field."""
    try:
        _ENGINES[False].from_string(source)
    except TemplateSyntaxError as exc:
        return str(exc)
    return None


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    """Render ``source``; with ``html`` every variable is escaped. Raises TemplateSyntaxError."""
    if not source:
        return ""
    template = _ENGINES[html].from_string(source)
    return template.render(Context(context, autoescape=html))


def pick_language(template: Any) -> str:
    """The site's language when the template has a text in it, else the one it has."""
    have = template.languages()
    wanted = (settings.LANGUAGE_CODE or "ru")[:2]
    if wanted in have or not have:
        return wanted if wanted in ("ru", "en") else "ru"
    return have[0]


def render_template(template: Any, context: dict[str, Any]) -> tuple[str, str, str]:
    """(language, subject, body) of a stored template; the subject is always plain text."""
    lang = pick_language(template)
    subject = render(getattr(template, f"subject_{lang}", ""), context)
    body = render(getattr(template, f"body_{lang}", ""), context, html=template.is_html)
    return lang, " ".join(subject.split()), body


def text_of(body: str, is_html: bool) -> str:
    """The plain-text version of a body (the HTML one with its tags taken out)."""
    return strip_tags(body) if is_html else body


def contact_context(contact: Any) -> dict[str, Any]:
    """What a template may read about a contact: plain values only."""
    if contact is None:
        return {}
    email = next(iter(e.email for e in contact.emails.all()), "")
    phone = next(iter(p.phone for p in contact.phones.all()), "")
    return {
        "id": contact.pk,
        "first_name": contact.first_name,
        "middle_name": contact.middle_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "position": contact.position,
        "email": email,
        "phone": phone,
        "company": contact.company.name if contact.company_id else "",
    }


def record_context(record: Any) -> dict[str, Any]:
    """``deal``/``company``/``lead`` variables for the record a message is about."""
    if record is None:
        return {}
    label = record._meta.model_name
    values: dict[str, Any] = {"id": record.pk, "name": str(record)}
    for name in ("title", "name", "amount", "expected_close_date", "inn", "website"):
        value = getattr(record, name, None)
        if value is not None and not callable(value) and not hasattr(value, "_meta"):
            values[name] = value
    for fk in ("stage", "currency", "pipeline", "company"):
        if getattr(record, f"{fk}_id", None) is not None:
            values[fk] = str(getattr(record, fk))
    return {label: values}
