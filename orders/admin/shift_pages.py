"""A cashier's shift: opening it with the opening cash, closing it with the counted cash, the Z-report."""

from django.http import Http404
from django.urls import URLPattern, path


def _not_yet(request, *args, **kwargs):
    raise Http404


def shift_urls(model_admin) -> list[URLPattern]:
    wrap = model_admin.admin_site.admin_view
    return [
        path("shift/open/", wrap(_not_yet), name="orders_shift_open"),
        path("shift/<int:pk>/close/", wrap(_not_yet), name="orders_shift_close"),
        path("shift/<int:pk>/z-report/", wrap(_not_yet), name="orders_shift_zreport"),
    ]
