"""Reference data of the catalogue: categories, manufacturers, active substances.

Renaming a manufacturer or a substance re-indexes its medicines' search text
through catalog.receivers, whatever saves it.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import BooleanRadioFilter, RelatedDropdownFilter
from unfold.decorators import display

from backoffice.admin_history import HistoryAdmin
from catalog.models import ActiveSubstance, Category, Manufacturer


@admin.register(Category)
class CategoryAdmin(HistoryAdmin, ModelAdmin):
    # No per-category medicine count: it reads every medicine row on each
    # page of a 100,000-medicine catalogue; the medicines list filters by category.
    list_display = ("name", "parent", "is_active", "sort_order")
    list_select_related = ("parent",)
    list_filter = (("parent", RelatedDropdownFilter), ("is_active", BooleanRadioFilter))
    list_filter_submit = True
    search_fields = ("name", "slug")
    autocomplete_fields = ("parent",)
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("sort_order", "name")
    history_list_display = ["is_active", "parent"]
    history_restore_fields = ("parent", "name", "slug", "is_active", "sort_order")


@admin.register(Manufacturer)
class ManufacturerAdmin(HistoryAdmin, ModelAdmin):
    list_display = ("name", "country")
    search_fields = ("name", "country")
    ordering = ("name",)
    history_restore_fields = ("name", "country")


@admin.register(ActiveSubstance)
class ActiveSubstanceAdmin(HistoryAdmin, ModelAdmin):
    list_display = ("inn_name", "name_uz", "name_ru", "display_atc_codes")
    search_fields = ("inn_name", "name_uz", "name_ru")
    ordering = ("inn_name",)
    history_list_display = ["atc_codes"]
    history_restore_fields = ("inn_name", "name_uz", "name_ru", "atc_codes")

    @display(description=_("ATC codes"), label=True)
    def display_atc_codes(self, obj: ActiveSubstance):
        return list(obj.atc_codes or [])
