# Task runner of the course. `make help` lists the targets.
# Everything runs inside .venv, created from requirements.txt on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# nbgrader runs `alembic`, which lives in the environment's bin folder.
export PATH := $(BIN):$(PATH)
PYTEST_ARGS ?=

.PHONY: help setup system book test test-fast lint format release check-release bench clean \
	collect-zip grade feedback export report distribute

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-student.txt pyproject.toml tasks.py
	$(PYTHON) tasks.py setup --all
	@touch $@

setup: $(VENV)/.installed  ## create .venv with everything (instructors, CI; students: python tasks.py setup)

# Debian packages the test suite and the grading sandbox need (not the students):
# Chromium for the browser tests, bubblewrap for the grading sandbox, a PostgreSQL server.
SYSTEM_PACKAGES := chromium bubblewrap postgresql
system:  ## install the Debian packages the tests need (as root; otherwise says what to run)
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "error: the tests need these Debian packages:$$missing"; \
	  echo "       install them with: sudo apt-get install -y$$missing"; exit 1; fi; \
	echo "==> Installing Debian packages:$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/tmp/apt-install.log 2>&1 || { echo "error: apt-get failed, see /tmp/apt-install.log"; exit 1; }; \
	echo "==> Installed:$$missing"

book: setup  ## build the website into _build/html (executes new chapters in parallel, cached)
	@echo "==> Building the book (on a cold cache every chapter executes: a few minutes)"
	$(BIN)/python -m reglab.book $(BOOK_ARGS)

test: setup system  ## run the whole test suite (builds the book, grades every assignment)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=20 $(PYTEST_ARGS)

test-fast: setup  ## the quick subset: no notebook execution, no book build
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup  ## ruff and notebook formatting checks
	$(BIN)/ruff check reglab tests nbgrader_config.py tasks.py
	$(BIN)/python -m reglab.course format --check

format: setup  ## normalize every notebook (no outputs, stable metadata) and ruff --fix
	$(BIN)/python -m reglab.course format
	$(BIN)/ruff check --fix reglab tests nbgrader_config.py tasks.py

release: setup  ## regenerate exercises/ from solutions/ (all, or A=... only)
	$(BIN)/python -m reglab.course release $(A)

check-release: setup  ## fail if exercises/ is not what solutions/ generates (A=... for one)
	$(BIN)/python -m reglab.course release --check $(A)

bench: setup  ## time chapters, autograding and the book; writes docs/benchmark.md
	$(BIN)/python -m reglab.bench $(BENCH_ARGS)

# Grading (docs/instructors.md): A=assignment, ZIP=a learning platform's zip, DEST=a folder.
# GRADE_ARGS passes options to the grader, e.g. GRADE_ARGS="--workers 4 --timeout 120", or
# GRADE_ARGS="--scheduler tcp://HOST:8786" to grade on that Dask cluster.
GRADER := $(BIN)/python -m reglab.grader
GRADE_ARGS ?=
need = @test -n "$($(1))" || { echo "error: say which $(2): make $@ $(1)=$(3)"; exit 2; }

collect-zip: setup  ## collect a learning platform's zip into submitted/ (A=... ZIP=...)
	$(call need,A,assignment,01_bias_variance)
	$(call need,ZIP,zip,path/to/download.zip)
	$(GRADER) collect-zip $(A) "$(ZIP)"

grade: setup  ## autograde every submission of A in parallel, sandboxed (A=...)
	$(call need,A,assignment,01_bias_variance)
	$(GRADER) grade $(A) $(GRADE_ARGS)

feedback: setup  ## HTML feedback of A for each student, hidden tests cleared (A=...)
	$(call need,A,assignment,01_bias_variance)
	$(GRADER) feedback $(A)

export: setup  ## export every grade to grades/grades.csv
	$(GRADER) export

report: setup  ## pass rate per test and score histogram of A, in grades/ (A=...)
	$(call need,A,assignment,01_bias_variance)
	$(GRADER) report $(A)

distribute: setup  ## write the student version of the repository into DEST (DEST=... [FORCE=1])
	$(call need,DEST,destination folder,../course-for-students)
	$(GRADER) distribute "$(DEST)" $(if $(FORCE),--force)

clean:  ## remove the build and nbgrader's working files (keeps .venv)
	rm -rf _build gradebook.db submitted autograded feedback grades grading downloaded .pytest_cache
