# Two commands matter: `make book` and `make test`. Each sets up .venv/ on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: book test test-fast bench release lint clean-book

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## book: build the book into book/_build/html (executes every chapter, cached)
book: $(STAMP)
	$(VENV)/bin/jupyter-book build book --warningiserror --keep-going

## test: run the whole test suite: fast unit tests in parallel first, then the slow
## ones (book build, grading pipeline)
test: $(STAMP)
	$(PY) -m pytest -n auto -m "not slow"
	$(PY) -m pytest -m slow

## test-fast: library tests only (no book build, no grading pipeline)
test-fast: $(STAMP)
	$(PY) -m pytest -n auto -m "not slow"

## bench: speed and memory of scratch vs native ops
bench: $(STAMP)
	$(PY) benchmarks/bench_ops.py

## release: regenerate the student notebooks exercises/NAME/ from solutions/NAME/ (nbgrader)
release: $(STAMP)
	for name in $(notdir $(patsubst %/,%,$(wildcard solutions/*/))); do \
		PATH="$(CURDIR)/$(VENV)/bin:$$PATH" nbgrader generate_assignment $$name --force || exit 1; \
	done

lint: $(STAMP)
	$(VENV)/bin/ruff check cnnlib tests benchmarks
	$(VENV)/bin/ruff format --check cnnlib tests benchmarks

clean-book:
	rm -rf book/_build
