"""Catalogue and stock.

A ``Lot`` is one batch of a medicine (number, expiry, status, purchase price)
wherever its packs are; what is on hand is per lot per place, in
``LotStock`` (Odoo's quant, ERPNext's bin). Every change of a lot's stock at
a place is a ``StockMovement`` row naming that place, written by the stock
core (``catalog.stock``), the only code that writes quantities, movements and
the derived stock columns:

- ``LotStock.quantity``: units of the lot at the place (the ledger's sum there);
- ``Lot.quantity``: the lot's units in every place, transit included;
- ``MedicineStock``: sellable units and the nearest sellable expiry of a medicine
  at a place, in a narrow table of its own so a sale rewrites a small row;
- ``Medicine.sellable_quantity`` / ``nearest_expiry``: the same for the whole chain.

Quantities count the smallest unit sold: a pack, or a part of it (a blister,
an ampoule) for a medicine with ``parts_per_pack`` > 1. Prices (``Medicine.price``,
``Lot.purchase_price``) are per pack, as on a price tag and an invoice: the value
of some stock is units × price / ``parts_per_pack``.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .validators import validate_icon, validate_image

MONEY = {"max_digits": 14, "decimal_places": 2}


def gtin_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of a GTIN's other digits."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def validate_gtin(value: str) -> None:
    """GTIN-8/12/13/14 (EAN/UPC) with its GS1 mod-10 check digit."""
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        raise ValidationError(_("A barcode has 8, 12, 13 or 14 digits."), code="invalid_gtin")
    if gtin_check_digit(value[:-1]) != value[-1]:
        raise ValidationError(_("The barcode's check digit is wrong: check the number."), code="invalid_gtin_check")


validate_atc = RegexValidator(
    r"^[A-Z]\d{2}([A-Z]([A-Z](\d{2})?)?)?$",
    _("An ATC code looks like N02BE01."),
    code="invalid_atc",
)


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
        ]

    def __str__(self) -> str:
        # The transit place is created by the code with an English name; people read it in their language.
        if self.kind == LocationKind.TRANSIT:
            return str(LocationKind.TRANSIT.label)
        return self.name

    @property
    def holds_sellable_stock(self) -> bool:
        return self.kind != LocationKind.TRANSIT


class Category(models.Model):
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=140, unique=True)
    icon = models.FileField(
        _("icon"),
        upload_to="categories/",
        blank=True,
        validators=[FileExtensionValidator(["svg", "png", "webp", "jpg", "jpeg"]), validate_icon],
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": _("A category cannot be inside itself.")})
            ancestor = ancestor.parent


class Manufacturer(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    country = models.CharField(_("country"), max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("manufacturer")
        verbose_name_plural = _("manufacturers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ActiveSubstance(models.Model):
    """An active pharmaceutical ingredient by its INN (International Nonproprietary Name)."""

    inn_name = models.CharField(_("INN (Latin)"), max_length=200, unique=True)
    name_uz = models.CharField(_("name in Uzbek"), max_length=200, blank=True)
    name_ru = models.CharField(_("name in Russian"), max_length=200, blank=True)
    # One substance can sit in several ATC groups (e.g. acetylsalicylic acid: N02BA01, B01AC06).
    atc_codes = models.JSONField(_("ATC codes"), default=list, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("active substance")
        verbose_name_plural = _("active substances")
        ordering = ["inn_name"]

    def __str__(self) -> str:
        return self.inn_name

    def clean(self) -> None:
        if not isinstance(self.atc_codes, list):
            raise ValidationError({"atc_codes": _('ATC codes are a list such as ["N02BE01"].')})
        self.atc_codes = [str(code).strip().upper() for code in self.atc_codes if str(code).strip()]
        for code in self.atc_codes:
            validate_atc(code)


class DosageForm(models.TextChoices):
    TABLET = "tablet", _("Tablet")
    COATED_TABLET = "coated_tablet", _("Film-coated tablet")
    EFFERVESCENT_TABLET = "effervescent_tablet", _("Effervescent tablet")
    CAPSULE = "capsule", _("Capsule")
    SYRUP = "syrup", _("Syrup")
    SUSPENSION = "suspension", _("Suspension")
    SOLUTION = "solution", _("Oral solution")
    INJECTION = "injection", _("Solution for injection")
    POWDER = "powder", _("Powder")
    OINTMENT = "ointment", _("Ointment")
    CREAM = "cream", _("Cream")
    GEL = "gel", _("Gel")
    DROPS = "drops", _("Drops")
    EYE_DROPS = "eye_drops", _("Eye drops")
    SPRAY = "spray", _("Spray")
    SUPPOSITORY = "suppository", _("Suppository")
    INHALER = "inhaler", _("Inhaler")
    LOZENGE = "lozenge", _("Lozenge")
    PATCH = "patch", _("Patch")


class StrengthUnit(models.TextChoices):
    MG = "mg", "mg"
    G = "g", "g"
    MCG = "mcg", "mcg"
    IU = "IU", "IU"
    PERCENT = "%", "%"
    MG_ML = "mg/ml", "mg/ml"


class Medicine(models.Model):
    name = models.CharField(_("name"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=280, unique=True)
    description = models.TextField(_("description"), blank=True)
    usage = models.TextField(_("usage"), blank=True, help_text=_("Indications and how to take it."))
    manufacturer = models.ForeignKey(
        Manufacturer, verbose_name=_("manufacturer"), on_delete=models.PROTECT, related_name="medicines"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="medicines"
    )
    image = models.ImageField(
        _("image"),
        upload_to="medicines/",
        blank=True,
        validators=[FileExtensionValidator(["png", "webp", "jpg", "jpeg"]), validate_image],
    )
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    barcode = models.CharField(
        _("barcode (GTIN)"), max_length=14, blank=True, null=True, unique=True, validators=[validate_gtin]
    )
    dosage_form = models.CharField(_("dosage form"), max_length=32, choices=DosageForm.choices)
    pack_size = models.PositiveIntegerField(_("pack size"), default=1, validators=[MinValueValidator(1)])
    # Sold by the part (a blister of a box, an ampoule of ten): stock counts parts.
    parts_per_pack = models.PositiveSmallIntegerField(
        _("parts per pack"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("1 when the pack is sold whole; e.g. 2 for a box of two blisters sold by the blister."),
    )
    part_name = models.CharField(_("name of a part"), max_length=40, blank=True, help_text=_("e.g. blister, ampoule"))
    part_price = models.DecimalField(
        _("price of a part, UZS"),
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Empty: the pack price divided by the parts."),
    )
    substances = models.ManyToManyField(
        ActiveSubstance, verbose_name=_("active substances"), through="MedicineSubstance", related_name="medicines"
    )
    is_prescription = models.BooleanField(_("prescription required"), default=False)
    is_controlled = models.BooleanField(
        _("controlled substance"), default=False, help_text=_("Narcotic or psychotropic: never sold online.")
    )
    price = models.DecimalField(_("price, UZS"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    # Shelf prices include VAT (Uzbek retail practice): the receipt shows the VAT contained in each line.
    vat_rate = models.DecimalField(
        _("VAT, %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("12"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("12 in Uzbekistan; 0 for a medicine exempt from VAT."),
    )
    # What a fiscal receipt line must carry (the tax authority's product classifier, 17 characters, and its
    # package code); blank until the catalogue is matched to the classifier.
    mxik_code = models.CharField(_("MXIK (IKPU) code"), max_length=17, blank=True)
    package_code = models.CharField(_("package code"), max_length=20, blank=True)
    reorder_level = models.PositiveIntegerField(
        _("reorder level"),
        default=0,
        help_text=_("In units sold (parts for a divisible medicine); per location overridable."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    number_sold = models.PositiveIntegerField(_("number sold"), default=0, editable=False)

    # The chain's totals over every place, derived by the stock core; never edited by hand.
    sellable_quantity = models.PositiveIntegerField(_("sellable stock"), default=0, editable=False)
    nearest_expiry = models.DateField(_("nearest expiry"), null=True, blank=True, editable=False)
    # Case-folded name, manufacturer and substances in Latin and Cyrillic for
    # search; maintained by catalog.services (SQLite's LIKE folds ASCII only).
    search_text = models.TextField(default="", blank=True, editable=False)
    # The set of substances ("12+31") and, with strengths and the dosage form,
    # the generic identity ("tablet|12:500mg|31:65mg"), for alternatives;
    # maintained by catalog.services.medicine_reindex_search.
    substance_key = models.CharField(max_length=255, default="", blank=True, editable=False)
    generic_key = models.CharField(max_length=500, default="", blank=True, editable=False)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(
        excluded_fields=[
            "sellable_quantity",
            "nearest_expiry",
            "search_text",
            "substance_key",
            "generic_key",
            "updated_at",
        ]
    )

    class Meta:
        verbose_name = _("medicine")
        verbose_name_plural = _("medicines")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="medicine_price_not_negative"),
            models.CheckConstraint(condition=Q(parts_per_pack__gte=1), name="medicine_parts_per_pack_positive"),
            models.CheckConstraint(
                condition=Q(part_price__isnull=True) | Q(part_price__gte=0), name="medicine_part_price_not_negative"
            ),
            models.CheckConstraint(condition=Q(vat_rate__gte=0, vat_rate__lte=100), name="medicine_vat_rate_range"),
        ]
        indexes = [
            models.Index(fields=["category", "is_active"], name="medicine_category_active_idx"),
            # With the id, so the API's price and popularity orderings (ties broken
            # by id in the same direction) read a page straight off the index.
            models.Index(fields=["is_active", "price", "id"], name="medicine_active_price_id_idx"),
            models.Index(fields=["is_active", "number_sold", "id"], name="medicine_active_sold_id_idx"),
            # No index on the chain's derived stock columns: a receipt's or a count's rewrite of them then
            # touches none of this row's indexes (a HOT update; migration 0013 leaves room on the pages).
            # The default order: search results and the admin list walk it and stop after a page.
            models.Index(fields=["name", "id"], name="medicine_name_idx"),
            # Alternatives: same generic, then same substances, cheapest first.
            models.Index(fields=["generic_key", "price"], name="medicine_generic_price_idx"),
            models.Index(fields=["substance_key", "price"], name="medicine_substances_price_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_low_stock(self) -> bool:
        return 0 < self.sellable_quantity <= self.reorder_level

    @property
    def is_out_of_stock(self) -> bool:
        return self.sellable_quantity == 0

    @property
    def is_divisible(self) -> bool:
        return self.parts_per_pack > 1

    @property
    def unit_price(self) -> Decimal:
        """The price of one unit sold: the pack, or a part (its own price, else the pack's divided)."""
        if not self.is_divisible:
            return self.price
        if self.part_price is not None:
            return self.part_price
        return (Decimal(self.price) / self.parts_per_pack).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class MedicineSubstance(models.Model):
    """One active substance of a medicine and its strength, e.g. 250 mg per 5 ml."""

    medicine = models.ForeignKey(
        Medicine, verbose_name=_("medicine"), on_delete=models.CASCADE, related_name="medicine_substances"
    )
    substance = models.ForeignKey(
        ActiveSubstance,
        verbose_name=_("active substance"),
        on_delete=models.PROTECT,
        related_name="medicine_substances",
    )
    strength = models.DecimalField(
        _("strength"), max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    unit = models.CharField(_("unit"), max_length=8, choices=StrengthUnit.choices, default=StrengthUnit.MG)
    # Liquids: the strength is per this volume in ml (250 mg / 5 ml). Empty for solids.
    per_volume_ml = models.DecimalField(_("per volume, ml"), max_digits=8, decimal_places=2, null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("substance and strength")
        verbose_name_plural = _("substances and strengths")
        constraints = [
            models.UniqueConstraint(fields=["medicine", "substance"], name="medicine_substance_once"),
            models.CheckConstraint(condition=Q(strength__gt=0), name="medicine_substance_strength_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.substance} {self.strength_display}"

    @property
    def strength_display(self) -> str:
        value = f"{self.strength.normalize():f}"
        text = f"{value} {self.unit}"
        if self.per_volume_ml:
            text += f"/{self.per_volume_ml.normalize():f} ml"
        return text


class LotStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    QUARANTINED = "quarantined", _("Quarantined")
    RECALLED = "recalled", _("Recalled")
    EXPIRED = "expired", _("Expired")


class Lot(models.Model):
    medicine = models.ForeignKey(Medicine, verbose_name=_("medicine"), on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(_("lot number"), max_length=64)
    expiry_date = models.DateField(_("expiry date"))
    received_date = models.DateField(_("received"))
    # Units of this lot in every place, transit included (the sum of its LotStock rows).
    quantity = models.IntegerField(_("quantity on hand"), default=0, editable=False)
    purchase_price = models.DecimalField(
        _("purchase price, UZS"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LotStatus.choices, default=LotStatus.AVAILABLE)
    status_reason = models.CharField(_("reason for status"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # The lot's own changes (status, details, corrections). Its quantity has a history of its own, the
    # ledger (``StockMovement``: every change with who, why and the document), so versions do not copy it:
    # a version's quantity would be stale after the sales the ledger alone records.
    history = HistoricalRecords(excluded_fields=["quantity"])

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["expiry_date", "id"]
        permissions = [
            ("quarantine_lot", _("Can quarantine, release and recall lots")),
            ("recall_lot", _("Can recall lots")),
            ("write_off_lot", _("Can write off stock")),
            ("adjust_stock", _("Can adjust stock after a count")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["medicine", "lot_number"], name="lot_number_unique_per_medicine"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="lot_quantity_not_negative"),
            models.CheckConstraint(condition=Q(purchase_price__gte=0), name="lot_purchase_price_not_negative"),
            models.CheckConstraint(
                condition=Q(expiry_date__gt=F("received_date")) | Q(quantity=0), name="lot_expires_after_receipt"
            ),
        ]
        indexes = [
            # FEFO: a medicine's sellable lots in expiry order.
            models.Index(fields=["medicine", "status", "expiry_date"], name="lot_fefo_idx"),
            # Expiry scans and the sweep: available lots by expiry date.
            models.Index(fields=["status", "expiry_date"], name="lot_status_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.medicine} · {self.lot_number}"


class LotStock(models.Model):
    """Units of one lot at one place (Odoo's quant): the ledger's balance there."""

    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="stocks")
    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="lot_stocks"
    )
    quantity = models.IntegerField(_("quantity"), default=0, editable=False)

    class Meta:
        verbose_name = _("stock of a lot at a location")
        verbose_name_plural = _("stock by lot and location")
        constraints = [
            models.UniqueConstraint(fields=["lot", "location"], name="lot_stock_once_per_location"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="lot_stock_not_negative"),
        ]
        indexes = [
            # FEFO at a place and a place's lists: its lots.
            models.Index(fields=["location", "lot"], name="lot_stock_location_lot_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lot} @ {self.location_id}: {self.quantity}"


class MedicineStock(models.Model):
    """A medicine's sellable units and nearest sellable expiry at one place.

    The derived columns are the stock core's; ``reorder_level`` is a person's
    override of the medicine's default at this place (empty: the default).
    """

    medicine = models.ForeignKey(
        Medicine, verbose_name=_("medicine"), on_delete=models.CASCADE, related_name="stock_levels"
    )
    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="medicine_stocks"
    )
    sellable_quantity = models.PositiveIntegerField(_("sellable stock"), default=0, editable=False)
    nearest_expiry = models.DateField(_("nearest expiry"), null=True, blank=True, editable=False)
    reorder_level = models.PositiveIntegerField(
        _("reorder level here"), null=True, blank=True, help_text=_("Empty: the medicine's reorder level.")
    )

    class Meta:
        verbose_name = _("stock of a medicine at a location")
        verbose_name_plural = _("stock by medicine and location")
        constraints = [
            models.UniqueConstraint(fields=["medicine", "location"], name="medicine_stock_once_per_location"),
        ]
        # No index holds a derived column: a sale's update of the row then touches
        # no index and stays on its page (a HOT update; migration 0011 leaves room).
        indexes = [models.Index(fields=["location", "medicine"], name="medicine_stock_location_idx")]

    def __str__(self) -> str:
        return f"{self.medicine_id} @ {self.location_id}: {self.sellable_quantity}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    DISPENSE = "dispense", _("Dispense")
    WRITE_OFF = "write_off", _("Write-off")
    ADJUSTMENT = "adjustment", _("Stocktake adjustment")
    RETURN = "return", _("Return")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")


class StockMovement(models.Model):
    """The stock ledger: append-only. A lot's quantity at a place is the sum of its movements there."""

    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="movements")
    location = models.ForeignKey(
        Location, verbose_name=_("location"), on_delete=models.PROTECT, related_name="movements"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=MovementKind.choices)
    quantity = models.IntegerField(_("quantity"), help_text=_("Positive in, negative out."))
    # The lot's balance at this place after the movement.
    balance_after = models.IntegerField(_("balance after"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # Where the movement comes from: an import job, an order, a recall notice.
    reference = models.CharField(_("reference"), max_length=120, blank=True, db_index=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock ledger")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="movement_balance_not_negative"),
        ]
        indexes = [
            models.Index(fields=["lot", "created_at"], name="movement_lot_time_idx"),
            models.Index(fields=["location", "created_at"], name="movement_location_time_idx"),
            models.Index(fields=["kind", "created_at"], name="movement_kind_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d} · {self.lot}"


# Spreadsheet import jobs (the import log) and transfers live in their own modules.
from catalog.models_imports import ImportJob, ImportKind, ImportState  # noqa: E402,F401
from catalog.models_transfers import Transfer, TransferLine, TransferState  # noqa: E402,F401
