# Two commands set everything up on a fresh machine:
#   make run    install into .venv (when missing or out of date) and start the app on localhost
#   make test   install, then run the whole test suite (browser tests need Debian chromium)
#   make test-fast   the quick loop while editing: no slow tests (marked `slow`), no browser
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# OpenMP threads that spin while waiting steal the CPU from every other process: with a
# training run beside the app or the tests, page tests ran 6x slower (316 s vs 50 s).
OMP_WAIT_POLICY ?= PASSIVE
export OMP_WAIT_POLICY

.PHONY: run test test-fast lint bench browser clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m streamlit run streamlit_app.py --server.address=127.0.0.1 --server.port=$(PORT)

test: $(VENV)/.installed browser
	$(PY) -m pytest

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow and not e2e"

# Chromium for the browser tests, and a CJK font so that Chinese pages and charts render (not as
# boxes): installed with apt-get where we are root on Debian, otherwise those tests are skipped
# with a message saying so.
browser:
	@{ command -v chromium && fc-list :lang=zh | grep -q .; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "chromium or fonts-noto-cjk not found: browser tests may be skipped (apt-get install chromium fonts-noto-cjk)"; fi; }

lint: $(VENV)/.installed
	$(PY) -m ruff check .

bench: $(VENV)/.installed
	$(PY) -m benchmarks.sampling
	$(PY) -m benchmarks.pixel_baseline

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
