"""scripts/backup.sh and scripts/restore.sh: dump, restore into a fresh database, the ledger still balances."""

import datetime
import os
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from backoffice.storage_config import local_storages
from catalog.models import Lot, Medicine, StockMovement
from catalog.stock import lot_receive, stock_dispense, stock_write_off
from catalog.tests.factories import MedicineFactory, main_location
from conftest import requires_postgres

from .images import image_bytes

ROOT = Path(__file__).resolve().parents[2]
TABLES = ["catalog_medicine", "catalog_lot", "catalog_stockmovement", "catalog_historicallot", "accounts_user"]


def database_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_url() -> str:
    return database_url("postgres")


def run(command: list[str], **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backoffice.settings.test", **env}
    result = subprocess.run(command, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


@pytest.fixture
def fresh_database():
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    yield name
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@requires_postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_its_media_and_the_ledger_balances(
    fresh_database, tmp_path, settings, make_staff
):
    source_media, source_private = tmp_path / "media", tmp_path / "private"
    settings.MEDIA_ROOT = source_media
    settings.STORAGES = local_storages(media_root=source_media, private_root=source_private)
    user = make_staff("inventory")
    today = timezone.localdate()
    medicines = [MedicineFactory(image=ContentFile(image_bytes(), name=f"m{i}.png")) for i in range(3)]
    for i, medicine in enumerate(medicines):
        lot = lot_receive(
            medicine=medicine,
            lot_number=f"L{i}",
            expiry_date=today + datetime.timedelta(days=400),
            quantity=50,
            purchase_price=Decimal("1000"),
            user=user,
        )
        stock_dispense(medicine=medicine, quantity=7, user=user, reference=f"order-{i}")
        stock_write_off(lot=lot, quantity=2, reason="Damaged box", user=user)
    (source_private / "imports").mkdir(parents=True)
    (source_private / "imports" / "receipt.csv").write_bytes(b"sku;qty\nA1;5\n")
    source_url = database_url(connection.settings_dict["NAME"])
    expected = row_counts(source_url)
    assert expected["catalog_stockmovement"] == 9

    backups = tmp_path / "backups"
    run(
        ["bash", "scripts/backup.sh", str(backups)],
        DATABASE_URL=source_url,
        MEDIA_ROOT=str(source_media),
        PRIVATE_MEDIA_ROOT=str(source_private),
    )
    dump = next(backups.glob("*.dump"))
    media = next(backups.glob("*-media.tar.gz"))
    assert not list(backups.glob("*.part"))

    target_media, target_private = tmp_path / "restored-media", tmp_path / "restored-private"
    restored_url = database_url(fresh_database)
    result = run(
        ["bash", "scripts/restore.sh", str(dump), str(media)],
        DATABASE_URL=restored_url,
        MEDIA_ROOT=str(target_media),
        PRIVATE_MEDIA_ROOT=str(target_private),
    )

    assert "Stock ledger balances" in result.stdout
    assert row_counts(restored_url) == expected
    with psycopg.connect(restored_url) as conn:
        quantities = dict(conn.execute("SELECT lot_number, quantity FROM catalog_lot").fetchall())
    assert quantities == {"L0": 41, "L1": 41, "L2": 41}
    for medicine in Medicine.objects.all():
        assert (target_media / medicine.image.name).read_bytes() == (source_media / medicine.image.name).read_bytes()
    assert (target_private / "imports" / "receipt.csv").read_bytes() == b"sku;qty\nA1;5\n"
    assert Lot.objects.count() == 3 and StockMovement.objects.count() == 9  # the source is untouched


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_broken_ledger_in_the_restored_database_fails_the_restore(fresh_database, tmp_path, settings, make_staff):
    settings.MEDIA_ROOT = tmp_path / "media"
    medicine = MedicineFactory()
    lot_receive(
        medicine=medicine,
        lot_number="X1",
        expiry_date=timezone.localdate() + datetime.timedelta(days=400),
        quantity=10,
        purchase_price=Decimal("1000"),
        location=main_location(),
    )
    # Damage the books the way a hand-edited row would: quantity no longer the sum of movements.
    Lot.objects.filter(lot_number="X1").update(quantity=9)
    source_url = database_url(connection.settings_dict["NAME"])
    backups = tmp_path / "backups"
    run(
        ["bash", "scripts/backup.sh", str(backups)],
        DATABASE_URL=source_url,
        MEDIA_ROOT=str(tmp_path / "media"),
        PRIVATE_MEDIA_ROOT=str(tmp_path / "private"),
    )

    result = subprocess.run(
        ["bash", "scripts/restore.sh", str(next(backups.glob("*.dump")))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
            "DATABASE_URL": database_url(fresh_database),
        },
    )

    assert result.returncode != 0
    assert "stock ledger problem" in result.stderr
