"""Every write path against the role table: allowed exactly where accounts/roles.py grants it.

The paths are read from the admin registry (each registered model's add, change
and delete views, its history pages, every list, detail, row and changelist
action), from the import kinds (``catalog.imports.engine.IMPORTERS``) and from
the public APIs' routes, so a model, action or import registered tomorrow is in
the matrix without editing this file (a model without a builder below fails and
says so).

The expectation of a path is the admin's own permission rule evaluated for a
stand-in user whose permissions are the role table itself (``TableUser``): the
rule says which permission a path needs, the table says whether the role holds
it. The request is then made for real, by a user of that role logged in through
the OTP form, with the permissions ``roles_sync`` gave its group. A refused
request must answer 403 (or a redirect that runs nothing) and leave the
database as it was. ``test_a_user_the_table_grants_nothing_may_use_no_write_path``
keeps the rules honest: a rule that ignores the user would open a path to
everyone, and fails there.

Management commands (``load_demo``, ``generate_catalog``, ``check_stock_ledger``,
``sync_roles``...) run only from a shell on the server; no URL reaches them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import registered_models
from unfold.admin import ModelAdmin as UnfoldModelAdmin

from accounts.roles import ROLE_PERMISSIONS, STAFF_ROLES, Role
from accounts.tests.factories import CustomerFactory, StaffFactory, TOTPDeviceFactory
from backoffice.admin_history import HistoryAdmin
from catalog import stock
from catalog.imports.engine import IMPORTERS, import_job_check, import_job_create
from catalog.imports.permissions import IMPORT_PERMISSIONS
from catalog.models import ImportJob, ImportState, Lot, LotStock, Medicine, StockMovement, Transfer, TransferLine
from catalog.tests.factories import (
    ActiveSubstanceFactory,
    CategoryFactory,
    LocationFactory,
    ManufacturerFactory,
    MedicineFactory,
    main_location,
    medicine_with,
    receive,
)
from catalog.tests.import_helpers import csv_bytes
from orders import services as orders_services
from orders.models import ControlledEntry, LineLot, Order, OrderLine, Return, ReturnLine, Shift
from orders.tests.factories import open_shift, sell
from payments.models import Payment, Refund
from tasks.models import Alert
from tasks.tests.factories import AlertFactory

ROLES = sorted(STAFF_ROLES)
CRUD = ("view", "add", "change", "delete")
OUR_APPS = ("accounts", "catalog", "tasks", "backoffice", "orders", "payments")
ALLOWED, REFUSED = "allowed", "refused"


# --- the table, as a user --------------------------------------------------------------
def granted(role: str | None, permission: str) -> bool:
    """Whether accounts/roles.py gives ``role`` the dotted ``permission``."""
    if role == Role.ADMIN:
        return True  # the administrator is a superuser
    if role is None:
        return False
    app_label, codename = permission.split(".", 1)
    for model_key, actions in ROLE_PERMISSIONS.get(role, {}).items():
        model_app, model_name = model_key.split(".")
        if model_app != app_label:
            continue
        for action in actions:
            if (action in CRUD and codename == f"{action}_{model_name}") or action == codename:
                return True
    return False


class TableUser:
    """What the role table allows, without the database: the expectation's user."""

    is_active = is_staff = is_authenticated = True
    is_anonymous = False
    pk = id = None

    def __init__(self, role: str | None) -> None:
        self.role = role
        self.is_superuser = role == Role.ADMIN

    def has_perm(self, permission: str, obj=None) -> bool:
        return granted(self.role, permission)

    def has_perms(self, permissions, obj=None) -> bool:
        return all(self.has_perm(permission) for permission in permissions)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_superuser or any(key.split(".")[0] == app_label for key in ROLE_PERMISSIONS.get(self.role, {}))


def table_request(role: str | None, method: str = "get"):
    # Some rules depend on the method (simplejwt's token admin is read-only for POST).
    request = getattr(RequestFactory(), method)("/")
    request.user = TableUser(role)
    return request


# --- objects to act on, one per registered model ---------------------------------------------
def _lot():
    return receive(MedicineFactory(), 20, expires_in_days=400)


def _periodic_task():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(name="matrix", task="tasks.scan_expiry", interval=every)


def _access(model_name: str, **extra):
    def build():
        model = apps.get_model("axes", model_name)
        return model.objects.create(
            username="+998901112233", ip_address="10.0.0.9", user_agent="matrix", http_accept="*/*",
            path_info="/admin/login/", **extra,
        )  # fmt: skip

    return build


def _beat(model_name: str, **values):
    return lambda: apps.get_model("django_celery_beat", model_name).objects.create(**values)


def _outstanding_token():
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    return OutstandingToken.objects.create(
        user=CustomerFactory(), jti="matrix-jti", token="t", expires_at=timezone.now() + datetime.timedelta(days=1)
    )


def _blacklisted_token():
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    return BlacklistedToken.objects.create(token=_outstanding_token())


def _import_job():
    job = import_job_create(
        kind="receipt", filename="r.csv", data=csv_bytes([["sku", "lot_number"], ["X", "1"]]),
        user=StaffFactory(role=Role.ADMIN),
    )  # fmt: skip
    return job


def _device():
    user = StaffFactory(role=Role.OPERATOR)
    return TOTPDeviceFactory(user=user)


def _group():
    from django.contrib.auth.models import Group

    return Group.objects.create(name="matrix")


def _medicine():
    medicine = MedicineFactory(price=Decimal("10000"))
    medicine.price = Decimal("12000")
    medicine.save()  # a second version, so a restore has something to restore
    return medicine


def _transfer():
    """A draft from the main pharmacy (where the matrix's staff work) to another branch, with the stock to send."""
    medicine = MedicineFactory()
    receive(medicine, 10)
    transfer = stock.transfer_create(
        source=main_location(), destination=LocationFactory(), lines=[(medicine, 2)], note="matrix"
    )
    transfer.note = "matrix, again"
    transfer.save()  # a second version, so a restore has something to restore
    return transfer


def _location():
    location = LocationFactory(name="Yunusobod", code="yunusobod")
    location.phone = "+998712000000"
    location.save()  # a second version, so a restore has something to restore
    return location


def _sale() -> Order:
    """A counter sale at the main pharmacy (where the matrix's staff work), by a colleague in their own shift."""
    medicine = MedicineFactory(price=Decimal("10000"))
    receive(medicine, 10)
    return sell(open_shift(), (medicine, 2))


def _return() -> Return:
    order = _sale()
    line = order.lines.get()
    return orders_services.order_return(
        order=order, items=[orders_services.ReturnItem(line.pk, 1, True)], reason="matrix", shift=order.shift,
        user=order.cashier,
    )  # fmt: skip


def _controlled_entry() -> ControlledEntry:
    medicine = medicine_with([(ActiveSubstanceFactory(), 50)], is_controlled=True, is_prescription=True)
    receive(medicine, 10)
    shift = open_shift()
    prescription = orders_services.PrescriptionIn("Dr Matrix", "RX-1", datetime.date.today(), "A. Patient")
    order = sell(shift, (medicine, 1), prescription=prescription, controlled_confirmed_by=shift.cashier)
    return ControlledEntry.objects.get(order=order)


def _shift() -> Shift:
    return _sale().shift


BUILDERS = {
    "accounts.User": lambda: StaffFactory(role=Role.OPERATOR),
    "auth.Group": _group,
    "otp_totp.TOTPDevice": _device,
    "axes.AccessAttempt": _access("AccessAttempt", get_data="", post_data="", failures_since_start=1),
    "axes.AccessLog": _access("AccessLog"),
    "axes.AccessFailureLog": _access("AccessFailureLog", locked_out=False),
    "django_celery_beat.PeriodicTask": _periodic_task,
    "django_celery_beat.IntervalSchedule": _beat("IntervalSchedule", every=5, period="minutes"),
    "django_celery_beat.CrontabSchedule": _beat("CrontabSchedule", minute="5", hour="6"),
    "django_celery_beat.SolarSchedule": _beat("SolarSchedule", event="sunrise", latitude="41.3", longitude="69.2"),
    "django_celery_beat.ClockedSchedule": _beat("ClockedSchedule", clocked_time=timezone.now()),
    "token_blacklist.OutstandingToken": _outstanding_token,
    "token_blacklist.BlacklistedToken": _blacklisted_token,
    "catalog.Location": _location,
    "catalog.Transfer": _transfer,
    "catalog.Category": CategoryFactory,
    "catalog.Manufacturer": ManufacturerFactory,
    "catalog.ActiveSubstance": ActiveSubstanceFactory,
    "catalog.Medicine": _medicine,
    "catalog.Lot": _lot,
    "catalog.StockMovement": lambda: _lot().movements.get(),
    "catalog.ImportJob": _import_job,
    "tasks.Alert": AlertFactory,
    "orders.Order": _sale,
    "orders.Shift": _shift,
    "orders.Return": _return,
    "orders.ControlledEntry": _controlled_entry,
    "payments.Payment": lambda: _sale().payments.get(),
    "payments.Refund": lambda: Refund.objects.get(return_doc=_return()),
}

REGISTRY = {model._meta.label: model_admin for model, model_admin in admin.site._registry.items()}


# --- the write paths of one admin ---------------------------------------------------------------
@dataclass(frozen=True)
class Path:
    name: str
    method: str
    url: str
    data: dict = field(default_factory=dict)
    # A POST to the changelist that runs no action simply shows the list again.
    changelist_action: bool = False


def _url(model_admin, view: str, *args) -> str:
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _unfold_actions(model_admin) -> list[tuple[str, object, bool]]:
    """(kind, action, takes an object) for every Unfold action the admin declares."""
    if not isinstance(model_admin, UnfoldModelAdmin):
        return []
    found = [("list", action, False) for action in model_admin._get_base_actions_list()]
    found += [("detail", action, True) for action in model_admin._get_base_actions_detail()]
    found += [("row", action, True) for action in model_admin._get_base_actions_row()]
    found += [("submit line", action, True) for action in model_admin._get_base_actions_submit_line()]
    return found


def _unfold_rule(model_admin, action, request, object_id, takes_object: bool) -> bool:
    """What Unfold's action decorator checks, evaluated for ``request``."""
    permissions = getattr(action.method, "allowed_permissions", None)
    if permissions is None:
        return True
    checks = []
    for permission in permissions:
        if "." in permission:
            checks.append(request.user.has_perm(permission))
            continue
        rule = getattr(model_admin, f"has_{permission}_permission")
        checks.append(rule(request, object_id) if takes_object else rule(request))
    return all(checks)


def write_paths(model_admin, obj, role: str | None) -> list[tuple[Path, bool]]:
    """Every path of ``model_admin`` on ``obj``, with whether ``role``'s table allows it."""
    request, post = table_request(role), table_request(role, "post")
    pk = obj.pk
    may_view = model_admin.has_view_or_change_permission(request, obj)
    paths = [
        (Path("add GET", "get", _url(model_admin, "add")), model_admin.has_add_permission(request)),
        (Path("add POST", "post", _url(model_admin, "add")), model_admin.has_add_permission(post)),
        (Path("change GET", "get", _url(model_admin, "change", pk)), may_view),
        (Path("change POST", "post", _url(model_admin, "change", pk)), model_admin.has_change_permission(post, obj)),
    ]
    if isinstance(model_admin, SimpleHistoryAdmin):
        version = obj.history.earliest()
        may_read = model_admin.has_view_history_or_change_history_permission(request, obj)
        # Whatever the admin, a history page writes only for whoever the table lets change the record,
        # and only where the admin lists fields a restore may write (written out, not asked of the admin).
        opts = model_admin.model._meta
        restore = granted(role, f"{opts.app_label}.change_{opts.model_name}") and bool(
            getattr(model_admin, "history_restore_fields", True)
        )
        version_url = _url(model_admin, "simple_history", pk, version.history_id)
        paths += [
            (Path("history GET", "get", _url(model_admin, "history", pk)), may_read),
            (Path("history version GET", "get", version_url), may_read),
            (Path("history version POST (restore)", "post", version_url, {"reason": "matrix check"}), restore),
        ]
    for kind, action, takes_object in _unfold_actions(model_admin):
        if kind == "submit line":
            pytest.fail(
                f"{type(model_admin).__name__}.{action.action_name}: teach the matrix to run submit-line actions"
            )
        url = reverse(f"admin:{action.action_name}", args=[pk] if takes_object else [])
        data = {"reason": "matrix check", "quantity": "1"}
        paths += [
            (Path(f"{kind} action {action.action_name} GET", "get", url),
             _unfold_rule(model_admin, action, request, pk, takes_object)),
            (Path(f"{kind} action {action.action_name} POST", "post", url, data),
             _unfold_rule(model_admin, action, post, pk, takes_object)),
        ]  # fmt: skip
    for func, name, _description in model_admin._get_base_actions():
        rules = [getattr(model_admin, f"has_{p}_permission") for p in getattr(func, "allowed_permissions", ())]
        allowed = model_admin.has_view_or_change_permission(post, obj) and all(rule(post) for rule in rules)
        data = {
            "action": name, helpers.ACTION_CHECKBOX_NAME: [pk], "index": "0", "select_across": "0",
            "apply": "1", "reason": "matrix check",
        }  # fmt: skip
        paths.append((Path(f"changelist action {name}", "post", _url(model_admin, "changelist"), data, True), allowed))
    paths += [
        (Path("delete GET", "get", _url(model_admin, "delete", pk)), model_admin.has_delete_permission(request, obj)),
        (Path("delete POST", "post", _url(model_admin, "delete", pk), {"post": "yes"}),
         model_admin.has_delete_permission(post, obj)),
    ]  # fmt: skip
    return paths


# --- running a path ---------------------------------------------------------------------------------
WATCHED = [
    Lot, LotStock, Medicine, StockMovement, ImportJob, Alert, Transfer, TransferLine,
    Order, OrderLine, LineLot, Shift, Return, ReturnLine, ControlledEntry, Payment, Refund,
]  # fmt: skip


def snapshot(models) -> dict:
    """Every row of ``models``, to tell whether a refused request changed anything."""
    return {model._meta.label: list(model._default_manager.order_by("pk").values()) for model in models}


def _watched(model) -> list:
    models = [model, *WATCHED, apps.get_model("accounts", "User"), apps.get_model("otp_totp", "TOTPDevice")]
    history = getattr(model, "history", None)
    if history is not None and hasattr(history, "model"):
        models.append(history.model)
    return list(dict.fromkeys(models))


def _refused(path: Path, response) -> bool:
    if response.status_code in (401, 403, 405):
        return True
    chain = [url for url, _status in getattr(response, "redirect_chain", [])]
    if response.status_code == 302:
        chain.append(response["Location"])
    if any("/login/" in url for url in chain):
        return True
    # Only this request's messages: earlier ones wait in the storage until a page shows them.
    queued = getattr(response.wsgi_request, "_messages", None)
    if any(str(message) == "No action selected." for message in getattr(queued, "_queued_messages", [])):
        return True
    # No action available at all: Django shows the list again and runs nothing.
    return bool(
        path.changelist_action and response.status_code == 200 and response.context and "cl" in response.context
    )


def run_all(client: Client, paths: list[Path], models) -> dict[str, str]:
    """Make each request in turn; a refused one must leave the database as the previous one left it."""
    outcomes = {}
    state = snapshot(models)
    for path in paths:
        if path.method == "get":
            response = client.get(path.url, follow=True)
        else:
            response = client.post(path.url, path.data)
        after = snapshot(models)
        if response.status_code == 404:
            outcomes[path.name] = f"not found: {path.url}"
        elif not _refused(path, response):
            outcomes[path.name] = ALLOWED
        else:
            outcomes[path.name] = REFUSED if after == state else f"{REFUSED}, but the database changed"
        state = after
    return outcomes


# --- the matrix --------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(REGISTRY))
@pytest.mark.parametrize("role", ROLES)
def test_each_admin_write_path_is_open_exactly_to_the_roles_the_table_grants(staff_client, role, label):
    if label not in BUILDERS:
        pytest.fail(f"{label} is registered in the admin: add a builder to BUILDERS so the matrix covers it")
    model_admin = REGISTRY[label]
    obj = BUILDERS[label]()
    paths = write_paths(model_admin, obj, role)
    client = staff_client(role)
    models = _watched(model_admin.model)

    outcomes = run_all(client, [path for path, _allowed in paths], models)

    assert outcomes == {path.name: ALLOWED if allowed else REFUSED for path, allowed in paths}


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(REGISTRY))
def test_a_user_the_table_grants_nothing_may_use_no_write_path(label):
    """Each rule consults the user: none opens a path to a staff member without permissions."""
    if label not in BUILDERS:
        pytest.fail(f"{label} is registered in the admin: add a builder to BUILDERS")
    obj = BUILDERS[label]()

    opened = [path.name for path, allowed in write_paths(REGISTRY[label], obj, None) if allowed]

    assert opened == []


def test_every_history_tracked_model_in_the_admin_guards_its_history_pages():
    tracked = {model._meta.label for model in registered_models.values()}
    unguarded = [label for label in sorted(tracked & set(REGISTRY)) if not isinstance(REGISTRY[label], HistoryAdmin)]
    assert unguarded == []


def test_every_action_of_our_admins_declares_the_permission_it_needs():
    undeclared = []
    for label, model_admin in REGISTRY.items():
        for func, name, _description in model_admin._get_base_actions():
            if func.__module__.split(".")[0] not in OUR_APPS:
                continue  # django's delete_selected, a library's own actions: gated by its admin's rules
            if not getattr(func, "allowed_permissions", None):
                undeclared.append(f"{label}: {name}")
        for _kind, action, _takes_object in _unfold_actions(model_admin):
            if not getattr(action.method, "allowed_permissions", None):
                undeclared.append(f"{label}: {action.action_name}")
    assert undeclared == []


# --- imports: upload and confirmation ---------------------------------------------------------------------
IMPORT_FILES = {
    "receipt": [
        ["sku", "lot_number", "expiry_date", "quantity", "purchase_price"],
        ["M-1", "NEW", "2030-01-31", "5", "1"],
    ],
    "pricelist": [["sku", "price", "is_prescription"], ["M-1", "1", "no"]],
    "stocktake": [["sku", "lot_number", "counted_quantity"], ["M-1", "L-1", "1"]],
}  # fmt: skip
IMPORT_WATCHED = [Lot, Medicine, StockMovement, ImportJob, Lot.history.model, Medicine.history.model]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(IMPORTERS))
@pytest.mark.parametrize("role", ROLES)
def test_each_import_kind_is_uploaded_and_confirmed_exactly_by_the_roles_the_table_grants(staff_client, role, kind):
    if kind not in IMPORT_FILES:
        pytest.fail(f"import kind {kind!r}: add a one-row file to IMPORT_FILES")
    medicine = MedicineFactory(sku="M-1", price=Decimal("55000"), is_prescription=True)
    receive(medicine, 10, lot_number="L-1")
    data = csv_bytes(IMPORT_FILES[kind])
    ready = import_job_check(
        job_id=import_job_create(kind=kind, filename="f.csv", data=data, user=StaffFactory(role=Role.ADMIN)).pk
    )
    assert ready.state == ImportState.READY, ready.errors
    allowed = all(granted(role, permission) for permission in IMPORT_PERMISSIONS[kind])
    client = staff_client(role)
    upload = Path(
        "upload", "post", reverse("admin:catalog_importjob_upload"),
        {"kind": kind, "import_file": SimpleUploadedFile("g.csv", data + b"\n")},
    )  # fmt: skip
    confirm = Path("confirm", "post", reverse("admin:catalog_importjob_confirm", args=[ready.pk]))

    outcomes = {}
    for path in (upload, confirm):
        before = snapshot(IMPORT_WATCHED)
        response = client.post(path.url, path.data)
        # A refused upload is the form again with the reason (200) or a 403; an accepted one goes to its preview.
        refused = response.status_code == 403 or (path is upload and response.status_code == 200)
        changed = snapshot(IMPORT_WATCHED) != before
        outcomes[path.name] = (
            ALLOWED if not refused else (f"{REFUSED}, but the database changed" if changed else REFUSED)
        )

    assert outcomes == {"upload": ALLOWED if allowed else REFUSED, "confirm": ALLOWED if allowed else REFUSED}


# --- the public APIs ---------------------------------------------------------------------------------------
WRITE_METHODS = ("post", "put", "patch", "delete")


def catalogue_api_urls(slug: str) -> list[str]:
    from catalog.api import urls as api_urls

    found = []
    for pattern in api_urls.urlpatterns:
        if pattern.name == "not-found":
            continue
        kwargs = {"slug": slug} if "slug" in pattern.pattern.converters else {}
        found.append(reverse(f"catalog-api:{pattern.name}", kwargs=kwargs))
    return found


CUSTOMER_WRITES = ["/api/v1/auth/me/", "/api/v1/auth/me/phone/"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "customer", *ROLES])
def test_the_catalogue_api_takes_no_write_from_anyone(client, staff_client, who):
    medicine = MedicineFactory(slug="panadol-500")
    extra = {}
    if who == "customer":
        from rest_framework_simplejwt.tokens import RefreshToken

        extra["HTTP_AUTHORIZATION"] = f"Bearer {RefreshToken.for_user(CustomerFactory()).access_token}"
    elif who != "anonymous":
        client = staff_client(who)
    urls = catalogue_api_urls(medicine.slug)
    # Staff sessions are not API credentials: the customer API's own writes refuse them too.
    if who in ROLES:
        urls += CUSTOMER_WRITES
    models = [Medicine, Lot, apps.get_model("accounts", "User")]

    outcomes = {}
    for url in urls:
        for method in WRITE_METHODS:
            before = snapshot(models)
            response = getattr(client, method)(url, data="{}", content_type="application/json", **extra)
            unchanged = snapshot(models) == before
            outcomes[f"{method.upper()} {url}"] = response.status_code in (401, 403, 405) and unchanged

    assert [path for path, refused in outcomes.items() if not refused] == []


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(REGISTRY))
def test_each_admins_own_rules_ask_for_the_model_permission_the_table_names(label):
    """The matrix's expectations come from the admins' rules; this pins those rules to the table itself.

    For every role, an add / change / delete / view rule opens exactly when the table grants that model
    permission, unless the admin closes the path to everyone (a lot is never deleted, the ledger never
    changed): no rule asks for a weaker permission than the one it guards, nor a stronger one.
    """
    if label not in BUILDERS:
        pytest.fail(f"{label} is registered in the admin: add a builder to BUILDERS")
    model_admin = REGISTRY[label]
    obj = BUILDERS[label]()
    opts = model_admin.model._meta
    rules = {
        "add": lambda request: model_admin.has_add_permission(request),
        "change": lambda request: model_admin.has_change_permission(request, obj),
        "delete": lambda request: model_admin.has_delete_permission(request, obj),
        "view": lambda request: model_admin.has_view_permission(request, obj),
    }
    wrong = []
    for action, rule in rules.items():
        open_to_anyone = rule(table_request(Role.ADMIN, "post"))
        for role in ROLES:
            needed = [f"{opts.app_label}.{action}_{opts.model_name}"]
            if action == "view":  # Django's rule: who may change a record may also read it
                needed.append(f"{opts.app_label}.change_{opts.model_name}")
            expected = open_to_anyone and any(granted(role, permission) for permission in needed)
            if rule(table_request(role, "post")) != expected:
                wrong.append(f"{role}: {action}")

    assert wrong == []


# What each action rule of our admins must ask for, written out here rather than read from the admins:
# a dotted permission of the role table, or a rule over it.
def _any_import(role):
    return any(all(granted(role, p) for p in perms) for perms in IMPORT_PERMISSIONS.values())


ACTION_RULES = {
    "quarantine": lambda role, admin: granted(role, "catalog.quarantine_lot"),
    "release": lambda role, admin: granted(role, "catalog.quarantine_lot"),
    "recall": lambda role, admin: granted(role, "catalog.recall_lot"),
    "write_off": lambda role, admin: granted(role, "catalog.write_off_lot"),
    "adjust": lambda role, admin: granted(role, "catalog.adjust_stock"),
    "acknowledge": lambda role, admin: granted(role, "tasks.acknowledge_alert"),
    "scan": lambda role, admin: granted(role, "tasks.change_alert"),
    "reset_second_factor": lambda role, admin: role == Role.ADMIN,
    "reorder_level": lambda role, admin: granted(role, "catalog.change_medicine"),
    "send": lambda role, admin: granted(role, "catalog.send_transfer"),
    "receive": lambda role, admin: granted(role, "catalog.receive_transfer"),
    "cancel": lambda role, admin: granted(role, "catalog.change_transfer"),
    "propose": lambda role, admin: any(granted(role, f"catalog.{a}_transfer") for a in ("view", "change")),
    "packing_list": lambda role, admin: any(granted(role, f"catalog.{a}_transfer") for a in ("view", "change")),
    "alternatives": lambda role, admin: any(granted(role, f"catalog.{a}_medicine") for a in ("view", "change")),
    "new_import": lambda role, admin: _any_import(role),
    "import_data": lambda role, admin: all(granted(role, p) for p in IMPORT_PERMISSIONS[admin.import_kind]),
    "export_data": lambda role, admin: granted(role, "catalog.export_catalog"),
    # django-import-export's export of a list (orders, the controlled-drug register): whoever reads the list.
    "export": lambda role, admin: any(
        granted(role, f"{admin.model._meta.app_label}.{a}_{admin.model._meta.model_name}") for a in ("view", "change")
    ),
    "accept_return": lambda role, admin: granted(role, "orders.accept_return"),
}
CRUD_RULES = {f"has_{action}_permission" for action in ("add", "change", "delete", "view", "module")}


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(REGISTRY))
def test_each_action_rule_of_our_admins_asks_for_what_the_table_says_it_needs(label):
    model_admin = REGISTRY[label]
    if type(model_admin).__module__.split(".")[0] not in OUR_APPS:
        pytest.skip("a library's admin: its actions are covered by the write-path matrix")
    obj = BUILDERS[label]() if label in BUILDERS else None
    wrong = []
    for name in dir(type(model_admin)):
        if not (name.startswith("has_") and name.endswith("_permission")) or name in CRUD_RULES:
            continue
        if not callable(getattr(model_admin, name)) or "history" in name or name.startswith("has_view_or"):
            continue
        key = name[len("has_") : -len("_permission")]
        if key not in ACTION_RULES:
            wrong.append(f"{name}: say in ACTION_RULES what it needs")
            continue
        for role in ROLES:
            expected = ACTION_RULES[key](role, model_admin)
            if bool(getattr(model_admin, name)(table_request(role, "post"), obj and obj.pk)) != expected:
                wrong.append(f"{role}: {name}")

    assert wrong == []


# --- the sales pages hung off the admins' URLs: the return page, the list exports -------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_return_page_takes_a_return_exactly_for_the_roles_the_table_grants(staff_client, role):
    order = _sale()
    line = order.lines.get()
    client = staff_client(role)
    if granted(role, "orders.add_shift") and granted(role, "orders.sell"):
        open_shift(client.user)  # a return is paid from the member's own open shift
    url = reverse("admin:orders_order_return", args=[order.pk])
    data = {f"line-{line.pk}-packs": "1", f"line-{line.pk}-resaleable": "on", "reason": "matrix check"}
    paths = [Path("return GET", "get", url), Path("return POST", "post", url, data)]

    outcomes = run_all(client, paths, _watched(Return))

    allowed = granted(role, "orders.accept_return")
    assert outcomes == {path.name: ALLOWED if allowed else REFUSED for path in paths}
    assert Return.objects.filter(order=order).exists() == allowed


EXPORTING = sorted(label for label, model_admin in REGISTRY.items() if isinstance(model_admin, ExportMixin))


@pytest.mark.django_db
@pytest.mark.parametrize("label", EXPORTING)
@pytest.mark.parametrize("role", ROLES)
def test_each_list_export_is_open_exactly_to_the_roles_that_read_the_list(staff_client, role, label):
    """An export hands out the whole list as a file: it needs what reading the list needs, nothing less."""
    model_admin = REGISTRY[label]
    BUILDERS[label]()
    opts = model_admin.model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_export")
    paths = [Path("export GET", "get", url), Path("export POST", "post", url, {"format": "1", "resource": "0"})]

    outcomes = run_all(staff_client(role), paths, _watched(model_admin.model))

    allowed = any(granted(role, f"{opts.app_label}.{action}_{opts.model_name}") for action in ("view", "change"))
    assert outcomes == {path.name: ALLOWED if allowed else REFUSED for path in paths}
