"""The API benchmark's floor: a bare ``JsonResponse`` through the same middleware, no framework.

``bench/bench_api.py`` measures every API figure beside this view on the same
server in the same run. Only that server routes it, at ``/api/v1/_bare/``
(``bench.settings`` -> ``bench.urls``); product code never imports it.
"""

from django.http import HttpRequest, JsonResponse


def bare_json_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})
