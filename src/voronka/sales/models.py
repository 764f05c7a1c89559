"""Sales: leads, pipelines with stages, deals with products, activities and reminders."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from voronka.core.visibility import OwnedQuerySet
from voronka.customers.models import Company, Contact


class Currency(models.Model):
    """A currency deals may be in; ``rate`` converts one unit into the base currency."""

    code = models.CharField(_("code"), max_length=3, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    symbol = models.CharField(_("symbol"), max_length=8, blank=True)
    rate = models.DecimalField(
        _("rate to base"), max_digits=18, decimal_places=6, default=Decimal(1)
    )
    is_base = models.BooleanField(_("base currency"), default=False)

    class Meta:
        ordering = ["-is_base", "code"]
        verbose_name_plural = "currencies"

    def __str__(self) -> str:
        return self.code


class Pipeline(models.Model):
    """A sales process: an ordered list of stages a deal moves through."""

    name = models.CharField(_("name"), max_length=128)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", _("in progress")
    WON = "won", _("won")
    LOST = "lost", _("lost")


class Stage(models.Model):
    """A step of a pipeline. It may carry a checklist (instructions shown on the deal while it
    is here) and fields that must be filled before a deal may enter it."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=128)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(_("probability, %"), default=0)
    color = models.CharField(_("colour"), max_length=16, default="#3b5bdb")
    kind = models.CharField(
        _("kind"), max_length=8, choices=StageKind.choices, default=StageKind.OPEN
    )
    instructions = models.JSONField(_("checklist"), default=list, blank=True)
    required_fields = models.JSONField(_("required fields"), default=list, blank=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        indexes = [models.Index(fields=["pipeline", "position"], name="stage_pipeline_pos_idx")]

    def __str__(self) -> str:
        return self.name


class LostReason(models.Model):
    """Why deals are lost; a configurable list so the dashboard can count them."""

    name = models.CharField(_("name"), max_length=128, unique=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """Something we sell, with a price per currency and a VAT rate."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    unit = models.CharField(_("unit"), max_length=32, default="шт")
    category = models.CharField(_("category"), max_length=128, blank=True)
    vat_rate = models.DecimalField(
        _("VAT, %"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class ProductPrice(models.Model):
    """The price of a product in one currency (the price list)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "currency"], name="product_price_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.price} {self.currency_id}"


class LeadStatus(models.TextChoices):
    NEW = "new", _("new")
    IN_PROGRESS = "in_progress", _("in progress")
    QUALIFIED = "qualified", _("qualified")
    JUNK = "junk", _("junk")


class Lead(models.Model):
    """An inbound request not yet qualified. Conversion turns it into a contact, a company
    and a deal, and the lead keeps links to what it became."""

    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    company_name = models.CharField(_("company"), max_length=255, blank=True)
    inn = models.CharField(_("INN / tax id"), max_length=32, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=128, blank=True)
    utm_source = models.CharField(max_length=255, blank=True)
    utm_medium = models.CharField(max_length=255, blank=True)
    utm_campaign = models.CharField(max_length=255, blank=True)
    utm_term = models.CharField(max_length=255, blank=True)
    utm_content = models.CharField(max_length=255, blank=True)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    junk_reason = models.CharField(_("junk reason"), max_length=255, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    custom = models.JSONField(default=dict, blank=True)
    converted_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_deal = models.ForeignKey(
        "Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="lead_status_idx"),
            models.Index(fields=["owner", "-created_at"], name="lead_owner_idx"),
        ]

    def __str__(self) -> str:
        name = " ".join(p for p in (self.last_name, self.first_name) if p)
        return name or self.company_name or self.email or self.phone or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("sales:lead", args=[self.pk])


class AssignmentRuleKind(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("round robin within a team")
    BY_SOURCE = "by_source", _("by source")
    BY_REGION = "by_region", _("by region")


class AssignmentRule(models.Model):
    """Who gets a new lead. Rules are tried in order; the first that matches assigns."""

    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=AssignmentRuleKind.choices)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("active"), default=True)
    match_value = models.CharField(_("source or region"), max_length=128, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    last_user_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Deal(models.Model):
    """A sale in progress. Amounts are Decimal in the deal's currency; with line items the
    amount is their total."""

    title = models.CharField(_("title"), max_length=255)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contacts = models.ManyToManyField(
        Contact, blank=True, related_name="+", verbose_name=_("contacts")
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, default=Decimal(0))
    currency = models.ForeignKey(
        Currency, verbose_name=_("currency"), on_delete=models.PROTECT, related_name="+"
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(_("probability, %"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    source = models.CharField(_("source"), max_length=100, blank=True)
    tags = models.ManyToManyField(
        "customers.Tag", blank=True, related_name="deals", verbose_name=_("tags")
    )
    custom = models.JSONField(default=dict, blank=True)
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("lost reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lost_comment = models.CharField(_("lost comment"), max_length=500, blank=True)
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    # Where the deal got to, kept from its stage history by the services so that the funnel
    # is one GROUP BY over the deals (see sales/progress.py): the furthest position among the
    # open and won stages of its pipeline it entered, and the last lost stage it entered (kept
    # when it is reopened).
    furthest_position = models.PositiveIntegerField(null=True, blank=True, editable=False)
    lost_at_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False,
        db_index=False,  # read through deal_progress_idx; a stage is rarely deleted
    )  # fmt: skip
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["stage", "-updated_at", "-id"], name="deal_stage_col_idx"),
            models.Index(fields=["owner", "stage", "-updated_at"], name="deal_owner_stage_idx"),
            # Covers the funnel and the kanban's column totals (no table reads), for everyone
            # (a pipeline's range) and for a team (a range per owner).
            models.Index(
                fields=[
                    "pipeline",
                    "owner",
                    "stage",
                    "furthest_position",
                    "lost_at_stage",
                    "currency",
                    "amount",
                    "created_at",
                ],
                name="deal_progress_idx",
            ),
            models.Index(fields=["closed_at"], name="deal_closed_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("sales:deal", args=[self.pk])

    @property
    def effective_probability(self) -> int:
        return self.probability if self.probability is not None else self.stage.probability


class DealLine(models.Model):
    """A product line of a deal; totals are computed by ``voronka.sales.money``."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=255)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=32, blank=True)
    unit_price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, default=Decimal(0)
    )
    vat_rate = models.DecimalField(
        _("VAT, %"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    net_total = models.DecimalField(max_digits=16, decimal_places=2)
    vat_total = models.DecimalField(max_digits=16, decimal_places=2)
    total = models.DecimalField(max_digits=16, decimal_places=2)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["deal", "position", "id"]

    def __str__(self) -> str:
        return self.name


class DealStageHistory(models.Model):
    """Each stage a deal was in, when it entered and left, so time per stage can be shown."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_history")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["deal", "entered_at", "id"]
        indexes = [models.Index(fields=["stage", "entered_at"], name="stagehist_stage_idx")]

    def __str__(self) -> str:
        return f"{self.deal_id}@{self.stage_id}"


class ActivityKind(models.TextChoices):
    TASK = "task", _("task")
    CALL = "call", _("call")
    MEETING = "meeting", _("meeting")


class CallDirection(models.TextChoices):
    INCOMING = "incoming", _("incoming")
    OUTGOING = "outgoing", _("outgoing")
    MISSED = "missed", _("missed")


class Activity(models.Model):
    """A task, call or meeting with an assignee (``owner``, for visibility) and a due time.
    ``remind_at``/``reminded_at`` are the durable reminder state the worker reads."""

    kind = models.CharField(
        _("kind"), max_length=8, choices=ActivityKind.choices, default=ActivityKind.TASK
    )
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    call_direction = models.CharField(
        _("direction"), max_length=8, choices=CallDirection.choices, blank=True
    )
    call_duration = models.PositiveIntegerField(_("duration, s"), null=True, blank=True)
    call_result = models.CharField(_("result"), max_length=255, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=255, blank=True)
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["owner", "done_at", "due_at"], name="activity_my_day_idx"),
            models.Index(
                fields=["remind_at"],
                condition=models.Q(reminded_at__isnull=True),
                name="activity_due_reminder_idx",
            ),
            models.Index(fields=["contact", "-created_at"], name="activity_contact_idx"),
            models.Index(fields=["company", "-created_at"], name="activity_company_idx"),
            models.Index(fields=["deal", "-created_at"], name="activity_deal_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


class CompanyProfile(models.Model):
    """Our own company's details printed on quotes and invoices (one row)."""

    name = models.CharField(_("name"), max_length=255, default="")
    legal_name = models.CharField(_("legal name"), max_length=255, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    bank_name = models.CharField(_("bank"), max_length=255, blank=True)
    bic = models.CharField(_("BIC"), max_length=9, blank=True)
    account = models.CharField(_("account"), max_length=20, blank=True)
    corr_account = models.CharField(_("correspondent account"), max_length=20, blank=True)
    director = models.CharField(_("director"), max_length=255, blank=True)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def get(cls) -> CompanyProfile:
        profile, _created = cls.objects.get_or_create(pk=1)
        return profile


class DocumentKind(models.TextChoices):
    QUOTE = "quote", _("quote")
    INVOICE = "invoice", _("invoice")


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SENT = "sent", _("sent")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")
    ISSUED = "issued", _("issued")
    PARTLY_PAID = "partly_paid", _("partly paid")
    PAID = "paid", _("paid")
    CANCELLED = "cancelled", _("cancelled")


class DocumentTemplate(models.Model):
    """HTML with Django template variables an administrator edits; rendered to PDF."""

    kind = models.CharField(_("kind"), max_length=8, choices=DocumentKind.choices)
    name = models.CharField(_("name"), max_length=128)
    html = models.TextField(_("HTML"))
    is_default = models.BooleanField(_("default"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return self.name


class DocumentCounter(models.Model):
    """The last number given per kind and year; locked while numbering."""

    kind = models.CharField(max_length=8, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="doc_counter_uniq")]

    def __str__(self) -> str:
        return f"{self.kind}-{self.year}: {self.last}"


class SalesDocument(models.Model):
    """A quote (commercial proposal) or an invoice made from a deal's lines. Its lines are a
    copy, so later edits of the deal never change what the customer was sent."""

    kind = models.CharField(_("kind"), max_length=8, choices=DocumentKind.choices)
    number = models.CharField(_("number"), max_length=32)
    year = models.PositiveSmallIntegerField()
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="documents")
    template = models.ForeignKey(
        DocumentTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=16, choices=DocumentStatus.choices)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    issue_date = models.DateField(_("date"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    due_date = models.DateField(_("payment due"), null=True, blank=True)
    net_total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal(0))
    vat_total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal(0))
    total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal(0))
    paid_total = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal(0))
    customer_name = models.CharField(_("customer"), max_length=255, blank=True)
    customer_details = models.TextField(_("customer details"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    public_token = models.CharField(max_length=64, unique=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["kind", "number"], name="doc_number_uniq")]
        indexes = [models.Index(fields=["deal", "-created_at"], name="doc_deal_idx")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("sales:document", args=[self.pk])

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return (
            self.kind == DocumentKind.INVOICE
            and self.status
            in (DocumentStatus.ISSUED, DocumentStatus.PARTLY_PAID, DocumentStatus.SENT)
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )

    @property
    def balance(self) -> Decimal:
        return self.total - self.paid_total


class DocumentLine(models.Model):
    document = models.ForeignKey(SalesDocument, on_delete=models.CASCADE, related_name="lines")
    name = models.CharField(max_length=255)
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.CharField(max_length=32, blank=True)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    net_total = models.DecimalField(max_digits=16, decimal_places=2)
    vat_total = models.DecimalField(max_digits=16, decimal_places=2)
    total = models.DecimalField(max_digits=16, decimal_places=2)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["document", "position", "id"]

    def __str__(self) -> str:
        return self.name


class Payment(models.Model):
    """Money received against an invoice."""

    document = models.ForeignKey(SalesDocument, on_delete=models.CASCADE, related_name="payments")
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(_("method"), max_length=64, blank=True)
    reference = models.CharField(_("reference"), max_length=128, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["paid_on", "id"]

    def __str__(self) -> str:
        return f"{self.amount} {self.paid_on}"


class CalendarFeed(models.Model):
    """A user's secret iCalendar URL; rotating the token cuts off old subscriptions."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"feed of {self.user_id}"
