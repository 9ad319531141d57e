"""Which admin pages each staff role may open: the roles table of accounts/roles.py, seen from a browser's side."""

import pytest

from accounts.roles import Role

pytestmark = pytest.mark.django_db

OK, NO = 200, 403

PAGES = {
    # page:                                         admin pharmacist operator inventory
    "/admin/":                                      (OK, OK, OK, OK),
    "/admin/accounts/user/":                        (OK, NO, NO, NO),
    "/admin/accounts/user/add/":                    (OK, NO, NO, NO),
    "/admin/auth/group/":                           (OK, NO, NO, NO),
    "/admin/axes/accessattempt/":                   (OK, NO, NO, NO),
    "/admin/django_celery_beat/periodictask/":      (OK, NO, NO, NO),
    "/admin/catalog/medicine/":                     (OK, OK, OK, OK),
    "/admin/catalog/medicine/add/":                 (OK, OK, NO, NO),
    "/admin/catalog/activesubstance/add/":          (OK, OK, NO, NO),
    "/admin/catalog/category/":                     (OK, OK, OK, OK),
    "/admin/catalog/lot/":                          (OK, OK, OK, OK),
    "/admin/catalog/lot/add/":                      (OK, NO, NO, OK),
    "/admin/catalog/stockmovement/":                (OK, OK, OK, OK),
    "/admin/catalog/location/":                     (OK, OK, OK, OK),
    "/admin/catalog/location/add/":                 (OK, NO, NO, NO),
    "/admin/catalog/transfer/":                     (OK, OK, OK, OK),
    "/admin/catalog/transfer/add/":                 (OK, NO, NO, OK),
    "/admin/catalog/importjob/":                    (OK, OK, NO, OK),
    "/admin/tasks/alert/":                          (OK, OK, OK, OK),
}  # fmt: skip

ROLES = [Role.ADMIN, Role.PHARMACIST, Role.OPERATOR, Role.INVENTORY]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_the_admin_pages_of_its_role(role, staff_client):
    client = staff_client(role)
    column = ROLES.index(role)

    answered = {page: client.get(page).status_code for page in PAGES}

    assert answered == {page: expected[column] for page, expected in PAGES.items()}
