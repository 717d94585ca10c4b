# Every target works from a fresh clone with only Python 3.11+ and make installed:
# the ones that need tools depend on the virtual environment, which `install` creates.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Peers (openai-python) live in their own environment, never in the SDK's.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: install demo drift bench test-quick generate check-generated lint format typecheck docs docs-publish test clean

install: $(STAMP)

# The package with every extra, plus the dev tools: a PEP 735 group, kept out of the package's
# metadata (`--group` needs pip >= 25.1, hence the upgrade first).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[cli,emulator,contract]' --group dev
	touch $(STAMP)

$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[contract,emulator]' openai==3.51.0
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/run.py

demo: $(STAMP)
	$(BIN)/python tools/demo.py

drift: $(STAMP)
	@test -n "$(NEW)" || { echo 'usage: make drift NEW=path-or-url-of-the-new-spec'; exit 2; }
	$(BIN)/python tools/drift.py '$(NEW)'

generate: $(STAMP)
	$(BIN)/python tools/codegen.py generate

check-generated: $(STAMP)
	$(BIN)/python tools/codegen.py check

# After ruff and bandit: the SDK's type completeness (at least 98%), and a user's script type-checked
# by mypy and basedpyright, its right calls accepted and its wrong ones still flagged (tests/typing).
# Then what PyPI would get: the sdist and a wheel built from it (so a file missing from the sdist
# fails here), without isolation (offline, the dev group's hatchling), checked as uploads (twine:
# metadata PyPI accepts) and for the wheel's contents (check-wheel-contents, configured in
# pyproject.toml). The results stay in dist/.
lint: $(STAMP)
	$(BIN)/ruff check facade emulator cli tests tools
	$(BIN)/ruff format --check facade emulator cli tests tools
	$(BIN)/bandit -q -r facade
	$(BIN)/python tools/verifytypes.py qubrid_video --minimum 98
	$(BIN)/mypy --strict tests/typing/user_script.py
	$(BIN)/basedpyright --pythonpath $(BIN)/python -p tests/typing/pyrightconfig.json
	rm -rf dist
	$(BIN)/python -m build --quiet --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/*
	$(BIN)/check-wheel-contents dist/*.whl

format: $(STAMP)
	$(BIN)/ruff check --fix facade emulator cli tests tools
	$(BIN)/ruff format facade emulator cli tests tools

typecheck: $(STAMP)
	$(BIN)/mypy

# The documentation site, into site/: warnings (a broken link, a docstring griffe cannot read) fail it.
# Offline: the theme loads no web fonts and no plugin fetches anything.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# Release step (CONTRIBUTING.md): the same build, pushed to the gh-pages branch GitHub Pages serves.
docs-publish: docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs gh-deploy --strict --force --no-history

test: check-generated lint typecheck docs
	$(BIN)/python -m pytest

# The same without the heavy reliability variants (the 5,000-call soak), for a quick local loop.
test-quick: check-generated lint typecheck docs
	$(BIN)/python -m pytest -m 'not heavy'

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache out dist site
