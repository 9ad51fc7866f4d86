# The two commands a fresh machine needs: `make dev` runs the service, `make test` runs every test.
# The interpreter: PYTHON if given, else the first Python 3.13+ on PATH or under pyenv (scripts/find-python).
VENV := .venv
BIN := $(VENV)/bin

.PHONY: dev test install bench tools

$(BIN)/mysocial: pyproject.toml
	@py="$(PYTHON)"; [ -n "$$py" ] || py=$$(sh scripts/find-python) || exit 1; \
	if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then \
		rm -rf $(VENV); echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV) || exit 1; \
	fi
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,test]'
	touch $(BIN)/mysocial

install: $(BIN)/mysocial

tools:
	@sh .ci/install-tools

dev: install tools
	$(BIN)/mysocial dev $(ARGS)

test: install tools
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install tools
	$(BIN)/python -m bench
