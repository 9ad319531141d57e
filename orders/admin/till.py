"""The till: the point-of-sale page and what it calls (scan, complete a sale), a shift's opening and closing,
the 80 mm receipt and the Z-report."""

from django.urls import URLPattern


def till_urls(model_admin) -> list[URLPattern]:
    return []
