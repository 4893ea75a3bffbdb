# Two commands matter: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3
OCR_PKGS := tesseract-ocr tesseract-ocr-rus tesseract-ocr-kaz tesseract-ocr-osd
TEST_PKGS := $(OCR_PKGS) dovecot-imapd dovecot-lmtpd postfix fonts-dejavu-core fonts-liberation2 \
             fonts-crosextra-carlito fonts-paratype poppler-utils chromium chromium-driver

.PHONY: demo test test-fast lint sysdeps-demo sysdeps-test venv test-venv clean-demo

demo: sysdeps-demo venv
	@mkdir -p storage/inbox/new storage/inbox/cur storage/inbox/tmp
	@for f in examples/*.eml; do \
	  cp "$$f" "storage/inbox/new/demo-$$(basename "$$f" .eml)-$$(sha256sum "$$f" | cut -c1-12)"; \
	done
	$(VENV)/bin/mailflow run --once
	$(VENV)/bin/mailflow journal list
	@echo
	@echo "The workplace: $(VENV)/bin/mailflow web   (then open http://127.0.0.1:8025)"
	@echo "Sign in as the clerk: type kanc@sevkaz.example; the link is mailed into storage/outbox/new/,"
	@echo "or mail it and print it at once: $(VENV)/bin/mailflow web --print-link kanc@sevkaz.example"

# Everything: lint, types, unit and integration tests (real Dovecot, Postfix, PostgreSQL).
test: sysdeps-test test-venv lint
	$(VENV)/bin/pytest -q -n 2  # both cores: the suite is ~2,700 tests

# Unit tests only (no servers, no subprocesses), on both cores: under a minute.
test-fast: test-venv
	$(VENV)/bin/pytest -q -m "unit and not slow" -n 2

lint: test-venv
	$(VENV)/bin/ruff check mailflow tests bench
	$(VENV)/bin/ruff format --check mailflow tests bench
	$(VENV)/bin/mypy

test-venv: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed constraints.txt
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $@

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e .
	touch $@

# Install only what is missing; apt-get runs once, and only when needed.
sysdeps-demo:
	@scripts/apt-ensure $(OCR_PKGS)

sysdeps-test:
	@scripts/apt-ensure $(TEST_PKGS)

clean-demo:
	rm -rf storage/journal.db* storage/inbox storage/outbox storage/archive storage/quarantine
