# The two commands a fresh machine needs: `make dev` runs the service, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: dev test install bench

$(BIN)/mysocial: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/mysocial

install: $(BIN)/mysocial

dev: install
	$(BIN)/mysocial dev

test: install
	@command -v redis-server >/dev/null || sh .ci/install-redis
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install
	$(BIN)/python -m bench
