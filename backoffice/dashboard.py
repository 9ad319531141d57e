"""The admin index: one dashboard per role, filled from selectors."""

from django.http import HttpRequest

from accounts.roles import Role


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    role = getattr(request.user, "role", None)
    context.update(
        {
            "dashboard_role": role,
            "role_label": Role(role).label if role in Role.values else "",
        }
    )
    return context
