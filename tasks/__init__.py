"""Alerts and the Celery side of the back-office.

- ``celery.py``: the Celery application (``backoffice/__init__.py`` imports it);
  tasks are sent with ``backoffice.queue.enqueue``;
- ``models.py``: alerts (expiry, low stock, per place) and their deliveries;
- ``services.py``: the set-based scans, acknowledgement and notification
  bookkeeping (every write); ``selectors.py``: the reads of alerts;
- ``tasks.py``: the periodic tasks, each calling one service; ``schedules.py``:
  when each runs; ``receivers.py``: the rescan after a stock change;
- ``notifications/``: the channels (e-mail, Telegram) and the messages;
- ``admin.py``, ``navigation.py``: the alerts' admin pages and sidebar badge.
"""
