# Two entry points, each doing its own set-up on a fresh machine:
#   make app   - create .venv if missing, install, open the dashboard
#   make test  - create .venv if missing, install, run the whole test suite
PYTHON ?= python3
VENV ?= .venv
# CPU build by default (a wheel of it lies on the build machines). GPU users:
#   make test TORCH_SPEC="torch==2.13.0" TORCH_INDEX=https://download.pytorch.org/whl/cu124
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PORT ?= 8501

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: app test install lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# Reinstall when the project's metadata changes; torch first so nothing pulls a CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)
	$(BIN)/pip install -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# A headless Streamlit server (no first-run prompt) that prints its URL and opens a browser
# only where a display exists; tests/cli/test_app_command.py runs this recipe's command.
app: $(STAMP)
	$(BIN)/interp app --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
