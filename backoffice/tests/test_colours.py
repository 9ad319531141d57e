import datetime

import pytest

from backoffice.colours import expiry_tone

TODAY = datetime.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("days_left", "tone"),
    [(-3, "danger"), (0, "danger"), (5, "danger"), (30, "danger"), (31, "warning"), (90, "warning"), (91, "default")],
)
def test_an_expiry_date_is_red_within_30_days_amber_within_90_and_plain_after(days_left, tone):
    assert expiry_tone(TODAY + datetime.timedelta(days=days_left), TODAY) == tone
