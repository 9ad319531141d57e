"""Fixtures of the catalogue tests: the public API's (``api``, ``shop``) live in api_support.py."""

import datetime

import pytest
import time_machine

from accounts.roles import Role

from .api_support import api, places, shop  # noqa: F401

# The day the import tests run on: their files' expiry dates are written against it.
IMPORT_DAY = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def import_day():
    """Freeze the clock at IMPORT_DAY (``pytest.mark.usefixtures("import_day")`` in an import test module)."""
    with time_machine.travel(IMPORT_DAY, tick=False):
        yield


@pytest.fixture
def inventory_user(make_staff):
    """Receives and counts stock: runs receipts and stocktakes."""
    return make_staff(Role.INVENTORY)


@pytest.fixture
def pharmacist(make_staff):
    """A price list changes medicines and their prices: pharmacists may run it, inventory staff may not."""
    return make_staff(Role.PHARMACIST)
