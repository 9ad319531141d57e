"""The till: the point-of-sale page and what it calls (scan, complete a sale) and the 80 mm receipt."""

from django.http import Http404
from django.urls import URLPattern, path


def _not_yet(request, *args, **kwargs):
    raise Http404


def till_urls(model_admin) -> list[URLPattern]:
    wrap = model_admin.admin_site.admin_view
    return [
        path("till/", wrap(_not_yet), name="orders_order_pos"),
        path("till/scan/", wrap(_not_yet), name="orders_order_pos_scan"),
        path("till/complete/", wrap(_not_yet), name="orders_order_pos_complete"),
        path("<int:pk>/receipt/", wrap(_not_yet), name="orders_order_receipt"),
    ]
