"""Reads of the inbox shared by its pages, its API and the contact card's panel.

A conversation is visible like any owned record (``Conversation.objects.visible_to``): a
sales rep sees the threads they manage, a team lead their team's, administrators and heads of
sales every thread, including those nobody manages yet. A message and an attachment are as
visible as their conversation; anything else answers 404."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from voronka.core.errors import Collector, NotFound
from voronka.core.pagination import Page, SortKey, keyset_page
from voronka.core.visibility import get_for_user
from voronka.inbox.models import Attachment, Conversation, Kind, Message

PAGE_LIMIT = 50
# Newest activity first; the id breaks ties and makes the cursor unique (conv_recent_idx).
SORT = [SortKey("last_message_at", descending=True), SortKey("id", descending=True)]
# "me" is the house word for the caller (leads, deals); "mine" reads better in a sentence.
OWNER_ME = ("me", "mine")
OWNER_NONE = "unassigned"
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def conversations_visible_to(user: Any) -> QuerySet[Conversation]:
    return Conversation.objects.visible_to(user)


def get_conversation_for_user(user: Any, pk: Any, *, write: bool = False) -> Conversation:
    """One conversation the user may see (NotFound otherwise) and, with ``write``, change."""
    qs = Conversation.objects.select_related("contact", "lead", "owner")
    return get_for_user(qs, user, pk, write=write)  # type: ignore[arg-type]


def get_message_for_user(user: Any, pk: Any) -> Message:
    """A message of a conversation the user may see."""
    try:
        return Message.objects.select_related("conversation").get(
            pk=int(pk), conversation__in=conversations_visible_to(user).values("pk")
        )
    except (TypeError, ValueError, Message.DoesNotExist) as exc:
        raise NotFound(f"message {pk} not found") from exc


def get_attachment_for_user(user: Any, pk: Any) -> Attachment:
    """A file of a message in a conversation the user may see: the only way to read one."""
    visible = conversations_visible_to(user).values("pk")
    try:
        return Attachment.objects.select_related("message").get(
            pk=int(pk), message__conversation__in=visible
        )
    except (TypeError, ValueError, Attachment.DoesNotExist) as exc:
        raise NotFound(f"attachment {pk} not found") from exc


# --- the list -----------------------------------------------------------------------------------


@dataclass
class ConversationQuery:
    conditions: list[Q]
    cursor: str | None
    limit: int


def _one(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip() if value is not None else ""


def _flag(errors: Collector, params: Mapping[str, Any], name: str) -> bool | None:
    raw = _one(params, name).lower()
    if not raw:
        return None
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    errors.add(name, _("must be true or false"))
    return None


def parse_conversation_query(params: Mapping[str, Any], user: Any) -> ConversationQuery:
    """Filters shared by the inbox page and the API: ``kind`` (channel), ``owner`` (a user
    id, ``me``/``mine`` or ``unassigned``), ``unread`` and ``closed`` (true/false),
    ``contact``, ``lead``, ``cursor``, ``limit``. Bad values are reported by name."""
    errors = Collector()
    conds: list[Q] = []
    if kind := _one(params, "kind"):
        if kind not in Kind.values:
            errors.add(
                "kind", _("must be one of: %(options)s") % {"options": ", ".join(Kind.values)}
            )
        else:
            conds.append(Q(kind=kind))
    owner = _one(params, "owner")
    if owner in OWNER_ME:
        conds.append(Q(owner_id=user.pk))
    elif owner == OWNER_NONE:
        conds.append(Q(owner__isnull=True))
    elif owner:
        if owner.isdigit():
            conds.append(Q(owner_id=int(owner)))
        else:
            errors.add("owner", _("a user id, “me” or “unassigned”"))
    unread = _flag(errors, params, "unread")
    if unread is not None:
        conds.append(Q(unread=unread))
    closed = _flag(errors, params, "closed")
    if closed is not None:
        conds.append(Q(closed=closed))
    for name in ("contact", "lead"):
        if raw := _one(params, name):
            if raw.isdigit():
                conds.append(Q(**{f"{name}_id": int(raw)}))
            else:
                errors.add(name, _("must be a whole number"))
    limit = PAGE_LIMIT
    if raw := _one(params, "limit"):
        if not raw.isdigit() or not 1 <= int(raw) <= 500:
            errors.add("limit", _("must be between 1 and 500"))
        else:
            limit = int(raw)
    errors.raise_if_any()
    return ConversationQuery(conds, _one(params, "cursor") or None, limit)


def conversation_list(user: Any, query: ConversationQuery) -> Page[Conversation]:
    """One keyset page of the conversations the user may see, newest activity first; a
    fixed number of queries whatever the page size."""
    qs = conversations_visible_to(user).select_related("contact", "lead", "owner")
    for cond in query.conditions:
        qs = qs.filter(cond)
    return keyset_page(qs, SORT, query.cursor, query.limit)


def unread_count(user: Any) -> int:
    """Open conversations waiting for the user (the nav badge): unread and not closed."""
    return conversations_visible_to(user).filter(unread=True, closed=False).count()


def conversations_of_contact(user: Any, contact_id: int, limit: int = 20) -> list[Conversation]:
    """The contact's threads the user may see, newest first (the card's panel)."""
    qs = conversations_visible_to(user).filter(contact_id=contact_id).select_related("owner")
    return list(qs.order_by("-last_message_at", "-id")[:limit])


# --- a thread -----------------------------------------------------------------------------------


def messages_of(conversation: Conversation) -> QuerySet[Message]:
    """The thread, oldest first, with authors and files in two more queries."""
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
