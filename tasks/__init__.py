"""Alerts and the Celery side of the back-office.

The design card names the app ``tasks``; what it owns is the Celery application and the stock alerts.
Every other app's work for later is in that app's own ``tasks.py`` (``accounts/tasks.py`` the SMS and the auth clean-up,
``orders/tasks.py`` the fiscal receipts, ``catalog/imports/tasks.py`` the large imports,
``backoffice/tasks.py`` the kept dashboard figures), each task calling one service of its app.

- ``celery.py``: the Celery application (``backoffice/__init__.py`` imports it);
  tasks are sent with ``backoffice.queue.enqueue``;
- ``models.py``: alerts (expiry, low stock, per place) and their deliveries;
- ``services.py``: the set-based scans, acknowledgement and notification
  bookkeeping (every write); ``selectors.py``: the reads of alerts;
- ``tasks.py``: the periodic tasks, each calling one service; ``schedules.py``:
  when each runs; ``receivers.py``: the rescan after a stock change;
- ``notifications/``: the channels (e-mail, Telegram) and the messages;
- ``admin.py``, ``navigation.py``: the alerts' admin pages and sidebar badge;
- ``management/commands/``: ``run_alerts`` (the scans now) and ``setup_schedules``.
"""
