"""Shared helpers of the catalogue admin tests."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_for(client, url: str) -> tuple[int, object]:
    """How many queries one GET of ``url`` runs, and the response (which must be a 200).

    A first, unmeasured GET warms per-process caches (content types, the
    sidebar's alert badge) so that only the page's own queries are counted.
    """
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:3000]
    return len(captured.captured_queries), response
