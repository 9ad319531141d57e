import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS, STAFF_ROLES, Role, group_name
from accounts.services.staff import roles_sync
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _perms(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_every_staff_role_has_a_group_after_migrate():
    names = set(Group.objects.values_list("name", flat=True))
    assert {group_name(role) for role in ROLE_PERMISSIONS} <= names


def test_sync_gives_each_group_exactly_the_permissions_of_the_table():
    pharmacist = Group.objects.get(name=group_name(Role.PHARMACIST))
    pharmacist.permissions.clear()
    extra = Group.objects.get(name=group_name(Role.OPERATOR))
    from django.contrib.auth.models import Permission

    extra.permissions.add(Permission.objects.get(codename="delete_user"))

    roles_sync()

    assert "catalog.change_medicine" in _perms(pharmacist)
    assert "catalog.quarantine_lot" in _perms(pharmacist)
    assert "accounts.change_user" not in _perms(pharmacist)
    assert "accounts.delete_user" not in _perms(extra)
    assert "catalog.change_medicine" not in _perms(extra)
    assert "catalog.view_medicine" in _perms(extra)


def test_sync_roles_command_reports_each_role(capsys):
    call_command("sync_roles")
    out = capsys.readouterr().out
    for role in ROLE_PERMISSIONS:
        assert f"{role}:" in out


def test_a_strict_sync_refuses_a_table_naming_a_permission_no_app_defines(monkeypatch):
    from accounts.exceptions import UnknownPermission
    from backoffice.exceptions import DomainError

    table = {role: dict(grants) for role, grants in ROLE_PERMISSIONS.items()}
    table[Role.PHARMACIST]["catalog.medicine"] = [*table[Role.PHARMACIST].get("catalog.medicine", []), "fly_medicine"]
    monkeypatch.setattr("accounts.services.staff.ROLE_PERMISSIONS", table)

    with pytest.raises(UnknownPermission) as refused:
        roles_sync(strict=True)

    assert isinstance(refused.value, DomainError) and refused.value.code == "unknown_permission"
    assert refused.value.missing == ["catalog.fly_medicine"]
    assert "catalog.fly_medicine" in refused.value.message


def test_setting_a_staff_role_puts_the_user_in_that_group_only():
    user = UserFactory(role=Role.OPERATOR)
    assert list(user.groups.values_list("name", flat=True)) == [group_name(Role.OPERATOR)]
    assert user.is_staff and not user.is_superuser

    user.role = Role.INVENTORY
    user.save()

    user.refresh_from_db()
    assert list(user.groups.values_list("name", flat=True)) == [group_name(Role.INVENTORY)]
    assert user.has_perm("catalog.add_lot")
    assert not user.has_perm("catalog.change_medicine")


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.COURIER])
def test_customers_and_couriers_are_never_staff_and_belong_to_no_role_group(role):
    user = UserFactory(role=Role.PHARMACIST)
    user.role = role
    user.save()
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.groups.exists()


def test_the_administrator_role_is_a_superuser():
    user = UserFactory(role=Role.ADMIN)
    assert user.is_superuser and user.is_staff
    assert user.has_perm("accounts.change_user")


def test_create_user_normalises_the_phone():
    user = User.objects.create_user("90 765 43 21", "Long-enough-pass-1")
    assert user.phone == "+998907654321"
    assert user.role == Role.CUSTOMER


def test_staff_roles_are_the_admin_roles():
    assert STAFF_ROLES == {Role.OPERATOR, Role.PHARMACIST, Role.INVENTORY, Role.ADMIN}
