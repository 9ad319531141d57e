# Dorixona: `make run` serves the admin with demo data; `make test` runs every test.
# Only Python 3.11+ and make are needed: everything else is installed into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test bench install lint migrate demo otp messages screenshots clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	$(BIN)/python manage.py run_alerts
	@# Last before the server starts, so the logins are on screen.
	@$(BIN)/python manage.py demo_accounts --site http://$(HOST):$(PORT)/
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The current authenticator code of a demo account: make otp PHONE=+998901000001
otp: install
	@$(BIN)/python manage.py demo_accounts --code $(PHONE)

# Retake docs/screenshots/ (each role's dashboard on the demo data) with the browser tests.
screenshots: install
	UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest -q backoffice/tests/test_browser_workflows.py -k screenshots

# Refresh locale/{uz,ru} from the code and templates (Unfold's included) and compile them.
messages: install
	$(BIN)/python manage.py i18n extract

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* media staticfiles
