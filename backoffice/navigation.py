"""Sidebar navigation and the environment label of the admin.

The sidebar is declared once in ``NAVIGATION``; ``sidebar()`` shows each
person only the entries their role may open (a link they cannot follow is
noise), and drops groups left empty.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    title: str | Promise
    icon: str
    # "app_label.model" for a changelist (its view permission decides), or a URL name.
    model: str = ""
    url_name: str = ""
    permission: str = ""
    # Dotted path to ``f(request) -> bool``, for an entry no single permission decides.
    visible: str = ""
    badge: str = ""


@dataclass(frozen=True)
class NavGroup:
    title: str | Promise
    items: list[NavItem] = field(default_factory=list)


NAVIGATION: list[NavGroup] = [
    NavGroup(
        _("Overview"),
        [NavItem(_("Dashboard"), "dashboard", url_name="admin:index")],
    ),
    NavGroup(
        _("Sales"),
        [
            NavItem(_("New sale"), "point_of_sale", url_name="admin:orders_order_pos", permission="orders.sell"),
            NavItem(_("Orders"), "receipt", model="orders.order"),
            NavItem(_("Returns"), "assignment_return", model="orders.return"),
            NavItem(_("Shifts"), "schedule", model="orders.shift"),
            NavItem(_("Controlled-drug register"), "gpp_maybe", model="orders.controlledentry"),
            NavItem(_("Payments"), "payments", model="payments.payment"),
            NavItem(_("Refunds"), "currency_exchange", model="payments.refund"),
        ],
    ),
    NavGroup(
        _("Catalogue"),
        [
            NavItem(_("Medicines"), "medication", model="catalog.medicine"),
            NavItem(_("Active substances"), "science", model="catalog.activesubstance"),
            NavItem(_("Categories"), "category", model="catalog.category"),
            NavItem(_("Manufacturers"), "factory", model="catalog.manufacturer"),
        ],
    ),
    NavGroup(
        _("Stock"),
        [
            NavItem(_("Lots"), "inventory_2", model="catalog.lot", badge="backoffice.navigation.expiring_lots_badge"),
            NavItem(_("Transfers"), "local_shipping", model="catalog.transfer"),
            NavItem(_("Stock ledger"), "receipt_long", model="catalog.stockmovement"),
            NavItem(_("Locations"), "store", model="catalog.location"),
            NavItem(_("Import log"), "upload_file", model="catalog.importjob"),
            NavItem(
                _("New import"),
                "upload",
                url_name="admin:catalog_importjob_upload",
                visible="catalog.imports.permissions.may_import",
            ),
            NavItem(
                _("Export"), "download", url_name="admin:catalog_importjob_export", permission="catalog.export_catalog"
            ),
        ],
    ),
    NavGroup(
        _("Alerts"),
        [NavItem(_("Alerts"), "notifications", model="tasks.alert", badge="tasks.navigation.open_alerts_badge")],
    ),
    NavGroup(
        _("Staff and security"),
        [
            NavItem(_("Users"), "group", model="accounts.user"),
            NavItem(_("Role groups"), "admin_panel_settings", model="auth.group"),
            NavItem(_("Authenticator devices"), "phonelink_lock", model="otp_totp.totpdevice"),
            NavItem(_("Login attempts"), "policy", model="axes.accessattempt"),
            NavItem(_("Lockouts and logins"), "history", model="axes.accesslog"),
            NavItem(_("Failed logins"), "gpp_bad", model="axes.accessfailurelog"),
        ],
    ),
    NavGroup(
        _("Scheduling"),
        [
            NavItem(_("Periodic tasks"), "schedule", model="django_celery_beat.periodictask"),
            NavItem(_("Intervals"), "timer", model="django_celery_beat.intervalschedule"),
            NavItem(_("Crontabs"), "calendar_month", model="django_celery_beat.crontabschedule"),
            NavItem(_("Solar events"), "wb_twilight", model="django_celery_beat.solarschedule"),
            NavItem(_("Clocked"), "alarm", model="django_celery_beat.clockedschedule"),
        ],
    ),
]


def _all_items() -> list[NavItem]:
    return [item for group in NAVIGATION for item in group.items]


def _item_link(item: NavItem) -> str | None:
    try:
        if item.model:
            app_label, model_name = item.model.split(".")
            return reverse(f"admin:{app_label}_{model_name}_changelist")
        return reverse(item.url_name)
    except NoReverseMatch:
        # The model is not registered (yet): its entry is simply not shown.
        return None


def _may_see(request: HttpRequest, item: NavItem) -> bool:
    user = request.user
    if item.visible:
        return import_string(item.visible)(request) is True
    if item.permission:
        return user.has_perm(item.permission)
    if item.model:
        app_label, model_name = item.model.split(".")
        return user.has_perm(f"{app_label}.view_{model_name}") or user.has_perm(f"{app_label}.change_{model_name}")
    return True


def _is_active(link: str, links: list[str]):
    """Unfold lights every item whose link starts the page's path, so the import log lit up with New import
    (``…/importjob/upload/``) and Export beneath it: only the longest matching link is the page's item."""

    def active(request: HttpRequest) -> bool:
        path = request.path
        matching = [other for other in links if path == other or (other != links[0] and path.startswith(other))]
        return bool(matching) and max(matching, key=len) == link

    return active


def sidebar(request: HttpRequest) -> list[dict]:
    groups = []
    links = [reverse("admin:index")] + [link for link in map(_item_link, _all_items()) if link]
    for group in NAVIGATION:
        items = []
        for item in group.items:
            link = _item_link(item)
            if link is None or not _may_see(request, item):
                continue
            entry = {"title": item.title, "icon": item.icon, "link": link, "active": _is_active(link, links)}
            if item.badge:
                entry["badge"] = item.badge
            items.append(entry)
        if items:
            groups.append({"title": group.title, "separator": True, "collapsible": False, "items": items})
    return groups


# How many days ahead the Lots badge looks: the nearest alert window.
EXPIRING_BADGE_DAYS = 30
EXPIRING_BADGE_CACHE_SECONDS = 60


def expiring_lots_badge_key() -> str:
    """Where today's expiring-lots count is cached (a new day starts a new count)."""
    from django.utils import timezone

    return f"badge:expiring-lots:{timezone.localdate():%Y%m%d}"


def expiring_lots_badge(request: HttpRequest) -> str | None:
    """Available lots with stock expired or expiring within 30 days; no badge when none.

    Counted through the (status, expiry_date) index and cached for a minute
    (every admin page shows the sidebar).
    """
    from django.core.cache import cache

    from backoffice.selectors_dashboard import expiring_lots_count

    key = expiring_lots_badge_key()
    count = cache.get(key)
    if count is None:
        count = expiring_lots_count(within_days=EXPIRING_BADGE_DAYS)
        cache.set(key, count, EXPIRING_BADGE_CACHE_SECONDS)
    return str(count) if count else None


def environment_label(request: HttpRequest) -> list[str]:
    if settings.ENVIRONMENT == "production":
        return [_("Production"), "danger"]
    return [_("Development"), "warning"]


# --- the command box (Ctrl+K, and the sidebar's search box) -----------------------
COMMAND_MEDICINES = 10


def command_search_medicines(request: HttpRequest, search_term: str) -> list:
    """Medicines for the command box, by name, substance, SKU or barcode (``medicine_search``), for whoever
    may read the catalogue: each links to its page, its SKU and price beside the name."""
    from unfold.dataclasses import SearchResult

    from catalog.formatting import format_uzs
    from catalog.selectors import medicine_search

    if not request.user.has_perm("catalog.view_medicine"):
        return []
    # Unfold lowercases the term it passes; a SKU is matched as typed ("NUR-200"), so the request's own is used.
    found = medicine_search(query=request.GET.get("s") or search_term)[:COMMAND_MEDICINES]
    return [
        SearchResult(
            title=medicine.name,
            description=f"{medicine.sku} · {format_uzs(medicine.price)}",
            link=reverse("admin:catalog_medicine_change", args=[medicine.pk]),
            icon="medication",
        )
        for medicine in found
    ]
