"""The inventory dashboard: what to reorder at each place, what expires, the imports."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.translation import gettext as _

from backoffice import selectors_dashboard as selectors
from backoffice.colours import IMPORT_STATE_COLOURS, expiry_tone
from catalog.formatting import format_date
from catalog.models import ImportKind

from .base import (
    Figure,
    PlaceSelection,
    Widget,
    admin_url,
    available_lots_url,
    badge,
    builder,
    expired_lots_url,
    link,
    lot_url,
    medicine_url,
    medicines_url,
    number,
)


@builder("inventory")
def inventory_widgets(selection: PlaceSelection) -> dict:
    places = selection.places
    counts = selectors.lot_action_counts(places=places, windows=(30,), set_aside=False)
    reorder = selectors.reorder_suggestions(places=places, limit=12)
    summary_low = selectors.medicine_summary(places=places).low_stock
    imports = selectors.recent_imports(limit=8)
    expiring = selectors.stock_to_act_on(places=places, within_days=30, include_expired=False, limit=10)
    reorder_rows = [
        [
            link(medicine_url(line.medicine.pk), line.medicine.name),
            *([line.location.name] if selection.several else []),
            badge(_("Out of stock"), "danger")
            if line.is_out_of_stock
            else badge(number(line.sellable_quantity), "warning"),
            number(line.reorder_level),
            number(line.dispensed_30_days),
            format_html("<strong>{}</strong>", number(line.suggested)),
        ]
        for line in reorder
    ]
    import_rows = [
        [
            format_date(job.created_at),
            job.get_kind_display(),
            link(admin_url("catalog_importjob_preview", job.pk), job.original_name),
            badge(job.get_state_display(), IMPORT_STATE_COLOURS.get(job.state, "info")),
            number(job.total_rows),
            str(job.created_by),
        ]
        for job in imports
    ]
    expiring_rows = [
        [
            link(lot_url(held.lot_id), held.lot.lot_number),
            link(medicine_url(held.lot.medicine_id), held.lot.medicine.name),
            *([held.location.name] if selection.several else []),
            badge(format_date(held.lot.expiry_date), expiry_tone(held.lot.expiry_date)),
            number(held.quantity),
        ]
        for held in expiring
    ]
    shortcuts = [
        {
            "id": f"inventory-import-{kind}",
            "kind": kind,
            "title": str(label),
            "href": admin_url("catalog_importjob_upload", kind=kind),
            "template_href": admin_url("catalog_importjob_template", kind, "xlsx"),
        }
        for kind, label in ImportKind.choices
    ]
    return {
        "figures": [
            Figure(
                "inventory-low-stock",
                _("Low stock"),
                number(summary_low),
                medicines_url(stock="low"),
                _("At or below the reorder level"),
                "warning" if summary_low else "",
            ),
            Figure(
                "inventory-expiring-30",
                _("Expiring within 30 days"),
                number(counts.lots_expiring[30]),
                available_lots_url(expiry=30),
                _("Lots"),
                "warning" if counts.lots_expiring[30] else "",
            ),
            Figure(
                "inventory-expired",
                _("Expired, still on the shelf"),
                number(counts.lots_expired),
                expired_lots_url(),
                _("Lots to write off"),
                "danger" if counts.lots_expired else "",
            ),
        ],
        "shortcuts": shortcuts,
        "imports_href": admin_url("catalog_importjob_changelist"),
        "tables": [
            Widget(
                "inventory-reorder",
                _("To reorder"),
                medicines_url(stock="low"),
                table={
                    "headers": [
                        _("medicine"),
                        *([_("place")] if selection.several else []),
                        _("sellable stock"),
                        _("reorder level"),
                        _("dispensed, 30 days"),
                        _("suggested order"),
                    ],
                    "rows": reorder_rows,
                },
                link_text=_("All low-stock medicines"),
            ),
            Widget(
                "inventory-recent-imports",
                _("Recent imports"),
                admin_url("catalog_importjob_changelist"),
                table={
                    "headers": [_("uploaded"), _("import"), _("file"), _("state"), _("rows"), _("by")],
                    "rows": import_rows,
                },
                link_text=_("Import log"),
            ),
            Widget(
                "inventory-expiring",
                _("Lots expiring within 30 days"),
                available_lots_url(expiry=30),
                table={
                    "headers": [
                        _("lot"),
                        _("medicine"),
                        *([_("place")] if selection.several else []),
                        _("expires"),
                        _("quantity"),
                    ],
                    "rows": expiring_rows,
                },
                link_text=_("All of them"),
            ),
        ],
    }
