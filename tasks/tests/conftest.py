import pytest

from tasks.tests.telegram_server import FakeBotAPI

TOKEN = "123456:TEST-token"
PHARMACIST_CHAT = "-1001"
INVENTORY_CHAT = "-1002"


@pytest.fixture
def bot_api(settings):
    api = FakeBotAPI(TOKEN).start()
    settings.TELEGRAM_BOT_TOKEN = TOKEN
    settings.TELEGRAM_API_BASE = api.base_url
    settings.TELEGRAM_CHAT_IDS = {"pharmacist": [PHARMACIST_CHAT], "inventory": [INVENTORY_CHAT]}
    settings.ALERT_CHANNELS = ["email", "telegram"]
    yield api
    api.stop()
