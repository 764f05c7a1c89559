"""The customer base: companies, contacts with their phones and e-mails, tags."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from voronka.core.visibility import OwnedQuerySet


class Tag(models.Model):
    """A label on companies and contacts; names are unique regardless of case."""

    name = models.CharField(_("name"), max_length=64)
    name_folded = models.CharField(max_length=64, unique=True, editable=False)
    color = models.CharField(_("colour"), max_length=16, default="secondary")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name_folded"]

    def __str__(self) -> str:
        return self.name


class CompanySize(models.TextChoices):
    MICRO = "1-10", _("1–10 employees")
    SMALL = "11-50", _("11–50 employees")
    MEDIUM = "51-250", _("51–250 employees")
    LARGE = "251-1000", _("251–1000 employees")
    ENTERPRISE = "1000+", _("over 1000 employees")


class Company(models.Model):
    """An organisation we sell to. ``search_text`` is derived by the services for search."""

    name = models.CharField(_("name"), max_length=255)
    legal_name = models.CharField(_("legal name"), max_length=255, blank=True)
    inn = models.CharField(_("INN / tax id"), max_length=32, blank=True, db_index=True)
    industry = models.CharField(_("industry"), max_length=128, blank=True)
    size = models.CharField(_("size"), max_length=16, choices=CompanySize.choices, blank=True)
    website = models.CharField(_("website"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True, db_index=True)
    region = models.CharField(_("region"), max_length=128, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies", verbose_name=_("tags"))
    custom = models.JSONField(default=dict, blank=True)
    search_text = models.TextField(default="", editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["name", "id"], name="company_name_idx"),
            models.Index(fields=["owner", "name", "id"], name="company_owner_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:company", args=[self.pk])


class AddressKind(models.TextChoices):
    LEGAL = "legal", _("legal")
    ACTUAL = "actual", _("actual")
    POSTAL = "postal", _("postal")
    DELIVERY = "delivery", _("delivery")


class CompanyAddress(models.Model):
    """One of a company's addresses (legal, actual, postal, delivery)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(
        _("kind"), max_length=16, choices=AddressKind.choices, default=AddressKind.ACTUAL
    )
    address = models.CharField(_("address"), max_length=500)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.address


class Contact(models.Model):
    """A person. Phones and e-mails are rows of their own, stored normalized."""

    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="contacts",
    )  # fmt: skip
    position = models.CharField(_("position"), max_length=255, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    source = models.CharField(_("source"), max_length=100, blank=True)
    email_consent = models.BooleanField(_("agrees to e-mail marketing"), default=False)
    sms_consent = models.BooleanField(_("agrees to SMS marketing"), default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts", verbose_name=_("tags"))
    custom = models.JSONField(default=dict, blank=True)
    search_text = models.TextField(default="", editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            models.Index(
                fields=["owner", "last_name", "first_name", "id"], name="contact_owner_name_idx"
            ),
            models.Index(fields=["company", "last_name"], name="contact_company_idx"),
            models.Index(fields=["created_at", "id"], name="contact_created_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("customers:contact", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class EmailKind(models.TextChoices):
    WORK = "work", _("work")
    PERSONAL = "personal", _("personal")
    OTHER = "other", _("other")


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("mobile")
    WORK = "work", _("work")
    HOME = "home", _("home")
    OTHER = "other", _("other")


class ContactEmail(models.Model):
    """A contact's e-mail, lower-cased; indexed for exact lookup and dedupe."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(max_length=254, db_index=True)
    kind = models.CharField(max_length=16, choices=EmailKind.choices, default=EmailKind.WORK)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email


class ContactPhone(models.Model):
    """A contact's phone in E.164; indexed for exact lookup, caller id and dedupe."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    phone = models.CharField(max_length=20, db_index=True)
    kind = models.CharField(max_length=16, choices=PhoneKind.choices, default=PhoneKind.MOBILE)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.phone
