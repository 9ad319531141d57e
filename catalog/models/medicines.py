"""The catalogue: categories, manufacturers, active substances, medicines and their strengths."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..validators import validate_icon, validate_image

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
