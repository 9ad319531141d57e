"""The admin is served under a content security policy it works with."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.roles import Role

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_login_page_carries_a_policy_that_allows_alpine_but_no_inline_script(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'", "'unsafe-eval'"]
    assert "'unsafe-inline'" in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "data:" in policy["img-src"]


def test_admin_pages_have_no_inline_script_the_policy_would_block(staff_client):
    client = staff_client(Role.PHARMACIST)

    for url in (reverse("admin:index"), reverse("admin:catalog_medicine_changelist")):
        response = client.get(url)
        assert response.status_code == 200, url
        inline_scripts = blocked_scripts(response.content.decode())
        assert inline_scripts == [], f"{url}: {[s[:120] for s in inline_scripts]}"


def blocked_scripts(html: str) -> list[str]:
    """The page's scripts the policy refuses to run: inline code (data such as JSON is never run)."""
    return [
        chunk
        for chunk in html.split("<script")[1:]
        if "src=" not in chunk.split(">", 1)[0]
        and 'type="application/json"' not in chunk.split(">", 1)[0]
        and 'type="text/template"' not in chunk.split(">", 1)[0]
    ]


def test_periodic_task_pages_run_no_inline_script_and_serve_the_crontab_helper_as_a_file(staff_client):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    client = staff_client(Role.ADMIN)
    crontab = CrontabSchedule.objects.create(minute="5", hour="0")
    task = PeriodicTask.objects.create(name="Expiry sweep", task="tasks.tasks.expire_lots", crontab=crontab)

    for url in (
        reverse("admin:django_celery_beat_periodictask_add"),
        reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert blocked_scripts(html) == [], url
        assert "'unsafe-inline'" not in directives(response)["script-src"]
        assert 'src="/static/backoffice/js/periodic-task.js"' in html
        assert f'"{crontab.pk}": "{crontab.human_readable}"' in html  # the readings, as data


def test_the_admin_lives_at_the_configured_url():
    assert reverse("admin:index") == f"/{settings.ADMIN_URL}"
    assert str(settings.LOGIN_URL) == f"/{settings.ADMIN_URL}login/"
