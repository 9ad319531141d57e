"""Medicines in the admin: stock and expiry at a glance, search that forgives, alternatives for the phone.

Stock is shown for the chain, or for one place when the location filter picks
it (that place's ``MedicineStock`` figures, read in the page's one query); a
medicine's page shows its stock at every place and lets a member set the
reorder level at their places (``medicine_reorder_level_set``).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR
from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    BooleanRadioFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display
from unfold.views import ChangeList
from unfold.widgets import UnfoldAdminIntegerFieldWidget

from backoffice.admin_history import HistoryAdmin
from backoffice.colours import EXPIRY_COLOURS, expiry_tone
from backoffice.history import RestoreRefused
from catalog import services
from catalog.exceptions import CatalogError
from catalog.formatting import format_date, format_uzs, medicine_units
from catalog.models import Location, LotStock, Medicine, MedicineStock, MedicineSubstance
from catalog.selectors import medicine_alternatives, medicine_search
from catalog.stock import visible_locations, works_at

from .filters import MedicineExpiryFilter, MedicineLocationFilter, StockStateFilter, medicine_place
from .forms import MedicineForm, PlaceChoiceField, fieldsets_without_reason
from .imports import ImportExportActionsMixin
from .lot import LOT_STATUS_COLOURS
from .paginator import EstimatedCountPaginator
from .refusals import ServiceRefusalsAsMessages

STOCK_COLOURS = {"out": "danger", "low": "warning", "in": "success"}
FLAG_COLOURS = {"inactive": "default", "controlled": "danger", "rx": "info"}


def shown_stock(medicine: Medicine) -> tuple[int, int, object]:
    """(sellable, reorder level, nearest expiry) at the place the list shows, else the chain's."""
    if hasattr(medicine, "place_sellable"):
        return medicine.place_sellable, medicine.place_reorder_level, medicine.place_expiry
    return medicine.sellable_quantity, medicine.reorder_level, medicine.nearest_expiry


def stock_state(medicine: Medicine) -> str:
    sellable, reorder_level, _expiry = shown_stock(medicine)
    if sellable == 0:
        return "out"
    if sellable <= reorder_level:
        return "low"
    return "in"


class ReorderLevelForm(forms.Form):
    """The reorder level of a medicine at one of the member's places; empty: the medicine's own applies."""

    level = forms.IntegerField(
        label=_("Reorder level here"),
        min_value=0,
        required=False,
        widget=UnfoldAdminIntegerFieldWidget,
        help_text=_("In units sold (parts for a medicine sold by the part). Empty: the medicine's reorder level."),
    )

    def __init__(self, *args, places: QuerySet[Location], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"] = PlaceChoiceField(places, label=_("Location"))
        self.order_fields(["location", "level"])


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


# Lots listed on a medicine's page; the lots list, filtered to the medicine, has the rest.
LOTS_SHOWN = 20


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
class MedicineAdmin(ServiceRefusalsAsMessages, ImportExportActionsMixin, HistoryAdmin, ModelAdmin):
    form = MedicineForm
    list_display = (
        "name",
        "display_sku",
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
        MedicineLocationFilter,
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
    inlines = (MedicineSubstanceInline,)
    readonly_fields = ("display_sellable", "nearest_expiry", "number_sold", "created_at", "updated_at")
    # What is on the shelves first: the lots held at each place, above the form (a staff member at the shelf
    # reads them before the catalogue fields); the stock and reorder level at each place below it.
    change_form_outer_before_template = "admin/catalog/medicine/lots.html"
    change_form_outer_after_template = "admin/catalog/medicine/stock_by_location.html"
    history_list_display = ["price", "is_prescription", "is_controlled", "is_active"]
    # A restore writes what the form edits, never stock, sales or search columns (nor an image long deleted).
    history_restore_fields = tuple(name for name in services.MEDICINE_DETAIL_FIELDS if name != "image")
    fieldsets = (
        (None, {"fields": ("name", "slug", "sku", "barcode", "manufacturer", "category", "dosage_form", "pack_size")}),
        (_("Sold by the part"), {"fields": ("parts_per_pack", "part_name", "part_price")}),
        (
            _("Price and stock"),
            {"fields": ("price", "reorder_level", "display_sellable", "nearest_expiry", "number_sold")},
        ),
        (_("Dispensing"), {"fields": ("is_prescription", "is_controlled", "is_active")}),
        (_("Reason for the change"), {"fields": ("change_reason",)}),
        (_("Description"), {"fields": ("description", "usage", "image")}),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )
    actions_detail = ["alternatives", "reorder_levels"]
    actions_row = ["alternatives"]
    # Import (price list) and export buttons: catalog/admin/imports.py.
    actions_list = ["import_data", "export_data"]
    import_kind = "pricelist"
    export_dataset = "medicines"

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            return fieldsets_without_reason(fieldsets)
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "medicine_substances",
                    queryset=MedicineSubstance.objects.select_related("substance").order_by("substance__inn_name"),
                )
            )
        )
        place = medicine_place(request)
        if place is None:
            return queryset
        # The chosen place's figures, read with each row (the one (medicine, place) row; none: nothing there).
        here = MedicineStock.objects.filter(medicine=OuterRef("pk"), location_id=place)
        return queryset.annotate(
            place_sellable=Coalesce(Subquery(here.values("sellable_quantity")[:1]), 0),
            place_reorder_level=Coalesce(Subquery(here.values("reorder_level")[:1]), F("reorder_level")),
            place_expiry=Subquery(here.values("nearest_expiry")[:1]),
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

    @display(description=_("SKU"), ordering="sku")
    def display_sku(self, obj: Medicine) -> str:
        # An SKU is one word: "DX-00062" never breaks at its hyphen in a narrow column.
        return format_html('<span class="whitespace-nowrap">{}</span>', obj.sku)

    @display(description=_("price"), ordering="price")
    def display_price(self, obj: Medicine) -> str:
        return format_uzs(obj.price)

    def get_list_display(self, request: HttpRequest):
        if medicine_place(request) is None:
            return self.list_display
        # Sorting follows the figures shown: the chosen place's.
        swap = {"display_stock": "display_stock_here", "display_expiry": "display_expiry_here"}
        return tuple(swap.get(name, name) for name in self.list_display)

    @display(description=_("sellable stock"), ordering="sellable_quantity", label=STOCK_COLOURS)
    def display_stock(self, obj: Medicine):
        state = stock_state(obj)
        if state == "out":
            return state, _("Out of stock")
        units = medicine_units(shown_stock(obj)[0], obj)
        if state == "low":
            return state, _("Low: %(quantity)s") % {"quantity": units}
        return state, units

    @display(description=_("sellable stock here"), ordering="place_sellable", label=STOCK_COLOURS)
    def display_stock_here(self, obj: Medicine):
        return self.display_stock(obj)

    @display(description=_("nearest expiry"), ordering="nearest_expiry", label=EXPIRY_COLOURS)
    def display_expiry(self, obj: Medicine):
        expiry = shown_stock(obj)[2]
        if expiry is None:
            return None
        text = expiry.strftime("%d.%m.%Y")
        tone = expiry_tone(expiry)
        if tone == "default":
            return tone, text
        return tone, _("%(date)s · expiring soon") % {"date": text}

    @display(description=_("nearest expiry here"), ordering="place_expiry", label=EXPIRY_COLOURS)
    def display_expiry_here(self, obj: Medicine):
        return self.display_expiry(obj)

    @display(description=_("sellable stock"))
    def display_sellable(self, obj: Medicine) -> str:
        return medicine_units(obj.sellable_quantity, obj)

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

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "stock_by_location": self._stock_by_location(request, object_id),
            "lots_held": self._lots_held(object_id),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _lots_held(self, object_id) -> dict:
        """The lots holding stock, one row per lot per place, soonest expiry first (two statements).

        Shows at most ``LOTS_SHOWN`` rows and links to the lots list for the rest and the empty ones.
        """
        medicine = Medicine.objects.filter(pk=object_id).only("pk", "parts_per_pack", "part_name").first()
        if medicine is None:
            return {}
        rows = (
            LotStock.objects.filter(lot__medicine=medicine, quantity__gt=0)
            .select_related("lot", "location")
            .order_by("lot__expiry_date", "lot_id", "location__name", "location_id")
        )
        today = timezone.localdate()
        shown = []
        for row in rows[: LOTS_SHOWN + 1]:
            lot = row.lot
            shown.append(
                {
                    "lot_number": lot.lot_number,
                    "url": reverse(f"{self.admin_site.name}:catalog_lot_change", args=[lot.pk]),
                    "status": lot.get_status_display(),
                    "status_tone": LOT_STATUS_COLOURS[lot.status],
                    "location": str(row.location),
                    "expiry": format_date(lot.expiry_date),
                    "expiry_tone": expiry_tone(lot.expiry_date, today),
                    "quantity": medicine_units(row.quantity, medicine),
                }
            )
        return {
            "rows": shown[:LOTS_SHOWN],
            "more": len(shown) > LOTS_SHOWN,
            "all_url": f"{reverse(f'{self.admin_site.name}:catalog_lot_changelist')}?medicine__id__exact={medicine.pk}",
        }

    def _stock_by_location(self, request: HttpRequest, object_id) -> list[dict]:
        """Each place's row of the medicine: sellable stock, nearest expiry, reorder level there, a link to set it."""
        medicine = Medicine.objects.filter(pk=object_id).only("pk", "parts_per_pack", "part_name", "reorder_level")
        medicine = medicine.first()
        if medicine is None:
            return []
        may_set = self.has_reorder_level_permission(request)
        set_url = reverse(f"{self.admin_site.name}:catalog_medicine_reorder_levels", args=[medicine.pk])
        rows = []
        for row in (
            MedicineStock.objects.filter(medicine=medicine)
            .select_related("location")
            .order_by("location__name", "location_id")
        ):
            rows.append(
                {
                    "location": str(row.location),
                    "sellable": medicine_units(row.sellable_quantity, medicine),
                    "expiry": format_date(row.nearest_expiry) or "—",
                    "level": row.reorder_level,
                    "default_level": medicine.reorder_level,
                    "url": f"{set_url}?location={row.location_id}"
                    if may_set and works_at(request.user, row.location_id)
                    else "",
                }
            )
        return rows

    # --- the reorder level at a place ---------------------------------------------
    def has_reorder_level_permission(self, request: HttpRequest, obj=None) -> bool:
        # A medicine setting, like its own reorder level: whoever may change medicines.
        return request.user.has_perm("catalog.change_medicine")

    @action(description=_("Reorder level here"), url_path="reorder-levels", permissions=["reorder_level"], icon="tune")
    def reorder_levels(self, request: HttpRequest, object_id: str):
        medicine = get_object_or_404(Medicine, pk=object_id)
        change_url = reverse(f"{self.admin_site.name}:catalog_medicine_change", args=[medicine.pk])
        places = visible_locations(request.user)
        chosen = request.GET.get("location", "")
        initial = {}
        if chosen.isdigit():
            current = MedicineStock.objects.filter(medicine=medicine, location_id=int(chosen)).first()
            initial = {"location": int(chosen), "level": current.reorder_level if current else None}
        form = ReorderLevelForm(request.POST if request.method == "POST" else None, places=places, initial=initial)
        if form.is_valid():
            location, level = form.cleaned_data["location"], form.cleaned_data["level"]
            try:
                services.medicine_reorder_level_set(
                    medicine=medicine, location=location, level=level, user=request.user
                )
            except CatalogError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                default = _("the medicine's (%(level)d)") % {"level": medicine.reorder_level}
                shown = level if level is not None else default
                self.log_change(request, medicine, f"Reorder level at {location.name}: {shown}")
                self.message_user(
                    request,
                    _("Reorder level of %(medicine)s at %(location)s: %(level)s.")
                    % {"medicine": medicine.name, "location": location.name, "level": shown},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reorder level of %(name)s at a location") % {"name": medicine.name},
            "opts": self.model._meta,
            "medicine": medicine,
            "form": form,
            "cancel_url": change_url,
        }
        return TemplateResponse(request, "admin/catalog/medicine/reorder_level.html", context)

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
                "stock": medicine_units(alternative.sellable_quantity, alternative),
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
            "medicine_stock": medicine_units(medicine.sellable_quantity, medicine),
            "medicine_stock_state": stock_state(medicine),
            "rows": rows,
            "change_url": reverse(f"{self.admin_site.name}:catalog_medicine_change", args=[medicine.pk]),
        }
        return TemplateResponse(request, "admin/catalog/medicine/alternatives.html", context)
