"""Places that hold stock: branches, warehouses, the transit between them and each place's quarantine."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Region(models.TextChoices):
    """The regions of Uzbekistan (the capital is a region of its own)."""

    TASHKENT_CITY = "tashkent_city", _("Tashkent city")
    TASHKENT = "tashkent", _("Tashkent region")
    ANDIJAN = "andijan", _("Andijan region")
    BUKHARA = "bukhara", _("Bukhara region")
    FERGANA = "fergana", _("Fergana region")
    JIZZAKH = "jizzakh", _("Jizzakh region")
    KASHKADARYA = "kashkadarya", _("Kashkadarya region")
    KHOREZM = "khorezm", _("Khorezm region")
    NAMANGAN = "namangan", _("Namangan region")
    NAVOI = "navoi", _("Navoi region")
    SAMARKAND = "samarkand", _("Samarkand region")
    SURKHANDARYA = "surkhandarya", _("Surkhandarya region")
    SYRDARYA = "syrdarya", _("Syrdarya region")
    KARAKALPAKSTAN = "karakalpakstan", _("Republic of Karakalpakstan")


class LocationKind(models.TextChoices):
    BRANCH = "branch", _("Branch")
    WAREHOUSE = "warehouse", _("Warehouse")
    # Where packs are between a transfer's sending and its receipt (one per chain,
    # created by the stock core); never sellable, never anyone's workplace.
    TRANSIT = "transit", _("In transit")
    # Where units returned unfit for sale are kept aside at a place (one per place, created by the stock core):
    # never sellable, never public; its stock is written off or sent back to the supplier from there.
    QUARANTINE = "quarantine", pgettext_lazy("place", "Quarantine")


# How a quarantine's stored name ends (after its place's name).
QUARANTINE_SUFFIX = " · quarantine"

# The kinds whose stock is never sold nor counted as a place's sellable stock.
NOT_SELLING_KINDS = (LocationKind.TRANSIT, LocationKind.QUARANTINE)


class Location(models.Model):
    """A place that holds stock: a branch (pharmacy) or a warehouse."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.SlugField(
        _("code"), max_length=32, unique=True, help_text=_("Short code used in imports and documents, e.g. chilonzor.")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=LocationKind.choices, default=LocationKind.BRANCH)
    address = models.CharField(_("address"), max_length=300, blank=True)
    region = models.CharField(_("region"), max_length=32, choices=Region.choices, default=Region.TASHKENT_CITY)
    district = models.CharField(_("district"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True)
    opening_hours = models.CharField(
        _("opening hours"), max_length=200, blank=True, help_text=_("e.g. Mon–Sat 08:00–22:00")
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_public = models.BooleanField(
        _("sells to the public"), default=True, help_text=_("Shown to customers as a pharmacy that has medicines.")
    )
    quarantine_of = models.OneToOneField(
        "self",
        verbose_name=_("quarantine of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quarantine",
        help_text=_("The place whose unfit returns this quarantine keeps aside."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="location_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_range",
            ),
            models.CheckConstraint(
                condition=~Q(kind=LocationKind.TRANSIT) | Q(is_public=False), name="location_transit_not_public"
            ),
            models.CheckConstraint(
                condition=(Q(kind=LocationKind.QUARANTINE) & Q(quarantine_of__isnull=False) & Q(is_public=False))
                | (~Q(kind=LocationKind.QUARANTINE) & Q(quarantine_of__isnull=True)),
                name="location_quarantine_of_a_place",
            ),
        ]

    def __str__(self) -> str:
        # The transit place and the quarantines are created by the code with English names; people read them
        # in their language (a quarantine's stored name is its place's, then " · quarantine").
        if self.kind == LocationKind.TRANSIT:
            return str(LocationKind.TRANSIT.label)
        if self.kind == LocationKind.QUARANTINE:
            return f"{self.name.rsplit(QUARANTINE_SUFFIX, 1)[0]} · {LocationKind.QUARANTINE.label}"
        return self.name

    @property
    def holds_sellable_stock(self) -> bool:
        return self.kind not in NOT_SELLING_KINDS
