"""Medicines in the admin: stock and expiry at a glance, search that forgives, alternatives for the phone."""

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    BooleanRadioFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display
from unfold.views import ChangeList

from backoffice.admin_history import HistoryAdmin
from backoffice.history import RestoreRefused
from catalog import services
from catalog.exceptions import CatalogError
from catalog.formatting import format_uzs
from catalog.models import Lot, Medicine, MedicineSubstance
from catalog.selectors import medicine_alternatives, medicine_search

from .filters import MedicineExpiryFilter, StockStateFilter
from .forms import MedicineForm
from .imports import ImportExportActionsMixin
from .lot import EXPIRING_SOON_DAYS, LOT_STATUS_COLOURS
from .paginator import EstimatedCountPaginator

STOCK_COLOURS = {"out": "danger", "low": "warning", "in": "success"}
EXPIRY_COLOURS = {"soon": "warning", "ok": "default"}
FLAG_COLOURS = {"inactive": "default", "controlled": "danger", "rx": "info"}


def stock_state(medicine: Medicine) -> str:
    if medicine.sellable_quantity == 0:
        return "out"
    if medicine.sellable_quantity <= medicine.reorder_level:
        return "low"
    return "in"


def substances_text(medicine: Medicine) -> str:
    """ "Paracetamol 500 mg + Caffeine 65 mg", from the prefetched strengths."""
    return " + ".join(str(link) for link in medicine.medicine_substances.all())


class MedicineSubstanceInline(TabularInline):
    model = MedicineSubstance
    fields = ("substance", "strength", "unit", "per_volume_ml")
    autocomplete_fields = ("substance",)
    extra = 0
    min_num = 0
    verbose_name = _("substance and strength")
    verbose_name_plural = _("substances and strengths")


class LotInline(TabularInline):
    """The medicine's lots, read-only: stock changes through lot actions and receipts."""

    model = Lot
    fields = ("lot_number", "expiry_date", "display_status", "quantity", "display_purchase_price", "supplier")
    readonly_fields = fields
    ordering = ("expiry_date", "id")
    extra = 0
    can_delete = False
    show_change_link = True
    per_page = 10
    verbose_name_plural = _("lots")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @display(description=_("status"), label=LOT_STATUS_COLOURS)
    def display_status(self, obj: Lot):
        return obj.status, obj.get_status_display()

    @display(description=_("purchase price"))
    def display_purchase_price(self, obj: Lot) -> str:
        return format_uzs(obj.purchase_price)


class MedicineChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters=None) -> QuerySet:
        # The list shows none of the long texts: do not read them for 50 rows.
        return super().get_queryset(request, exclude_parameters).defer("description", "usage", "search_text")

    def get_ordering(self, request: HttpRequest, queryset: QuerySet):
        # A search result is ordered by relevance (exact code, then trigram
        # similarity) unless the person sorts by a column.
        if not self.params.get(ORDER_VAR) and "rank" in queryset.query.annotations:
            return self._get_deterministic_ordering(list(queryset.query.order_by))
        return super().get_ordering(request, queryset)


@admin.register(Medicine)
class MedicineAdmin(ImportExportActionsMixin, HistoryAdmin, ModelAdmin):
    form = MedicineForm
    list_display = (
        "name",
        "sku",
        "display_substances",
        "display_price",
        "display_stock",
        "display_expiry",
        "display_flags",
        "manufacturer",
    )
    list_display_links = ("name",)
    list_select_related = ("manufacturer", "category")
    list_filter = (
        StockStateFilter,
        MedicineExpiryFilter,
        ("category", RelatedDropdownFilter),
        ("manufacturer", AutocompleteSelectFilter),
        ("substances", AutocompleteSelectFilter),
        ("is_prescription", BooleanRadioFilter),
        ("is_controlled", BooleanRadioFilter),
        ("is_active", BooleanRadioFilter),
    )
    list_filter_submit = True
    # Declared for the search box and autocomplete checks; the search itself
    # is catalog.selectors.medicine_search (Cyrillic, transliteration, typos).
    search_fields = ("name", "sku", "barcode")
    search_help_text = _("Name, SKU, barcode or active substance, in Latin or Cyrillic.")
    autocomplete_fields = ("manufacturer", "category")
    prepopulated_fields = {"slug": ("name",)}
    list_per_page = 50
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    inlines = (MedicineSubstanceInline, LotInline)
    readonly_fields = ("sellable_quantity", "nearest_expiry", "number_sold", "created_at", "updated_at")
    history_list_display = ["price", "is_prescription", "is_controlled", "is_active"]
    # A restore writes what the form edits, never stock, sales or search columns (nor an image long deleted).
    history_restore_fields = tuple(name for name in services.MEDICINE_DETAIL_FIELDS if name != "image")
    fieldsets = (
        (None, {"fields": ("name", "slug", "sku", "barcode", "manufacturer", "category", "dosage_form", "pack_size")}),
        (
            _("Price and stock"),
            {"fields": ("price", "reorder_level", "sellable_quantity", "nearest_expiry", "number_sold")},
        ),
        (_("Dispensing"), {"fields": ("is_prescription", "is_controlled", "is_active")}),
        (_("Reason for the change"), {"fields": ("change_reason",)}),
        (_("Description"), {"fields": ("description", "usage", "image")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    actions_detail = ["alternatives"]
    actions_row = ["alternatives"]
    # Import (price list) and export buttons: catalog/admin/imports.py.
    actions_list = ["import_data", "export_data"]
    import_kind = "pricelist"
    export_dataset = "medicines"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "medicine_substances",
                    queryset=MedicineSubstance.objects.select_related("substance").order_by("substance__inn_name"),
                )
            )
        )

    def get_changelist(self, request: HttpRequest, **kwargs):
        return MedicineChangeList

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        if not search_term.strip():
            return queryset, False
        return medicine_search(query=search_term, queryset=queryset), False

    def save_model(self, request: HttpRequest, obj: Medicine, form, change: bool) -> None:
        if not change:
            obj._change_reason = form.cleaned_data.get("change_reason") or None
            super().save_model(request, obj, form, change)
            return
        # Only the edited fields, under the medicine's lock: saving the whole row
        # would put back the sales count and stock read when the form was opened.
        services.medicine_update(
            medicine=obj,
            changes={name: getattr(obj, name) for name in form.changed_data if name in services.MEDICINE_DETAIL_FIELDS},
            user=request.user,
            reason=form.cleaned_data.get("change_reason", ""),
        )

    def restore_version(self, request: HttpRequest, *, obj: Medicine, changes: dict, reason: str):
        try:
            return services.medicine_update(medicine=obj, changes=changes, user=request.user, reason=reason)
        except CatalogError as exc:
            raise RestoreRefused(exc.message) from exc

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Name, manufacturer and substances feed the search column.
        services.medicine_reindex_search(medicine_ids=[form.instance.pk])

    # --- columns -------------------------------------------------------------
    @display(description=_("active substances"))
    def display_substances(self, obj: Medicine) -> str:
        return substances_text(obj)

    @display(description=_("price"), ordering="price")
    def display_price(self, obj: Medicine) -> str:
        return format_uzs(obj.price)

    @display(description=_("sellable stock"), ordering="sellable_quantity", label=STOCK_COLOURS)
    def display_stock(self, obj: Medicine):
        state = stock_state(obj)
        if state == "out":
            return state, _("Out of stock")
        if state == "low":
            return state, _("Low: %(quantity)d") % {"quantity": obj.sellable_quantity}
        return state, str(obj.sellable_quantity)

    @display(description=_("nearest expiry"), ordering="nearest_expiry", label=EXPIRY_COLOURS)
    def display_expiry(self, obj: Medicine):
        if obj.nearest_expiry is None:
            return None
        text = obj.nearest_expiry.strftime("%d.%m.%Y")
        if (obj.nearest_expiry - timezone.localdate()).days <= EXPIRING_SOON_DAYS:
            return "soon", _("%(date)s · expiring soon") % {"date": text}
        return "ok", text

    @display(description=_("dispensing"), label=FLAG_COLOURS)
    def display_flags(self, obj: Medicine):
        # One badge per row (each badge is a template render: 50 rows add up).
        words = []
        if not obj.is_active:
            words.append(_("Inactive"))
        if obj.is_prescription:
            words.append(_("Rx"))
        if obj.is_controlled:
            words.append(_("Controlled"))
        if not words:
            return None
        kind = "inactive" if not obj.is_active else "controlled" if obj.is_controlled else "rx"
        return kind, " · ".join(str(word) for word in words)

    # --- alternatives, for an operator on the phone --------------------------
    def has_alternatives_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_view_permission(request)

    @action(description=_("Alternatives"), url_path="alternatives", permissions=["alternatives"], icon="swap_horiz")
    def alternatives(self, request: HttpRequest, object_id: str):
        medicine = get_object_or_404(
            self.get_queryset(request).select_related("manufacturer", "category"), pk=object_id
        )
        alternatives = medicine_alternatives(medicine=medicine)
        rows = [
            {
                "medicine": alternative,
                "url": reverse(f"{self.admin_site.name}:catalog_medicine_change", args=[alternative.pk]),
                "kind": alternative.alternative_kind,
                "substances": substances_text(alternative),
                "price": format_uzs(alternative.price),
                "stock_state": stock_state(alternative),
            }
            for alternative in alternatives
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Alternatives to %(name)s") % {"name": medicine.name},
            "opts": self.model._meta,
            "medicine": medicine,
            "medicine_substances": substances_text(medicine),
            "medicine_price": format_uzs(medicine.price),
            "medicine_stock_state": stock_state(medicine),
            "rows": rows,
            "change_url": reverse(f"{self.admin_site.name}:catalog_medicine_change", args=[medicine.pk]),
        }
        return TemplateResponse(request, "admin/catalog/medicine/alternatives.html", context)
