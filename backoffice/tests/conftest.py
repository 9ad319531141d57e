import pytest
from django.core.cache import cache

from backoffice.storage_config import s3_storages

from .s3server import ACCESS_KEY, REGION, SECRET_KEY, S3Server


@pytest.fixture
def fresh_cache():
    """An empty cache before and after: dashboards and sidebar badges cache their figures."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def monitor_client(client, settings):
    """A client sending the configured ``HEALTH_TOKEN``: /health/ shows it every check's detail."""
    settings.HEALTH_TOKEN = "monitor-token-for-tests-0123456789abcdef"
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {settings.HEALTH_TOKEN}"
    return client


@pytest.fixture(scope="session")
def s3_server():
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server, settings):
    """Point Django's storages at a fresh bucket of the local S3 server."""
    bucket = s3_server.new_bucket()
    settings.STORAGES = s3_storages(
        bucket=bucket,
        endpoint_url=s3_server.endpoint_url,
        region=REGION,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        private_expire_seconds=settings.PRIVATE_URL_EXPIRE_SECONDS,
    )
    return bucket
