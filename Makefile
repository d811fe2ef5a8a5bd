# The course's commands. `make book` and `make test` are the two that matter; both set up .venv/ first.
SHELL := /bin/bash
# A system Python first: graded kernels run as an unprivileged user, who must be able to run the interpreter
# (a Python under /root is out of its reach).
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) $(shell command -v python3.11 || command -v python3))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
export UV_COMPILE_BYTECODE := 1
export PYTHONHASHSEED := 0
ASSIGNMENTS := $(notdir $(wildcard solutions/[0-9][0-9]_*))

WORKERS ?=
CLASSROOM := $(BIN)/python -m convcourse.grader.classroom

.PHONY: setup runtimes sandbox browser services worker-machine worker watch reconcile service-status book student-kit feedback-example test serve release collect collect-zip autograde feedback grades report benchmark clean

setup: $(STAMP)

# Reinstall only when the pins or the package metadata change.
$(STAMP): requirements.lock pyproject.toml
	@echo "Setting up $(VENV) with $(PYTHON) (pinned in requirements.lock)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --python $(BIN)/python --index-strategy unsafe-best-match --quiet -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	# jsonschema compiles a Lark grammar for rfc3987-syntax whenever nbformat is imported: 2.4 s of CPU for every
	# nbgrader command and grading process. Nothing here validates IRIs, and jsonschema does without it.
	$(BIN)/uv pip uninstall --python $(BIN)/python --quiet rfc3987-syntax
	touch $(STAMP)

# The kernel runtimes (.venv-kernel, .venv-kernel-keras) of the exercises, from the student kit's pinned files;
# needed for grading and the tests, not for the book. Rebuilt only when their pins or the student sources change.
runtimes: setup
	$(BIN)/python -m convcourse.grader.runtime

# The book links the student kit from its home page: the zip is built first and copied into the site.
book: setup student-kit
	$(BIN)/jupyter-book build . --warningiserror --keep-going --quiet
	cp _build/student-kit.zip _build/html/student-kit.zip
	cp kit/feedback-example.html _build/html/feedback-example.html
	@echo "The book is in _build/html/index.html (make serve to preview it)."

# What a student downloads: _build/student-kit/ and _build/student-kit.zip (kit/START-HERE.md says what is in it).
student-kit: setup
	$(BIN)/python kit/build.py

# Grading needs bubblewrap (and root, for the box's cgroups and private scratch): installed with apt where that
# works, otherwise explained (grading then refuses, and says why).
sandbox:
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then \
	  .ci/install-bubblewrap; \
	else \
	  echo "bubblewrap was not found, so grading refuses to run student code. Install it (Debian/Ubuntu:"; \
	  echo "'sudo apt-get install bubblewrap') and grade as root; see README, 'What grading protects'."; \
	fi

# The sample feedback page the book links: a real submission with a flipped kernel, graded by the real flow.
feedback-example: setup runtimes sandbox
	$(BIN)/python -m convcourse.grader.sample_feedback kit/feedback-example.html

# The browser tests need Chromium: installed with apt where that works (root or sudo), otherwise explained.
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || [ -n "$$CONVCOURSE_CHROMIUM" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then \
	  .ci/install-chromium; \
	else \
	  echo "Chromium was not found, so tests/test_browser.py will fail. Install Chromium (Debian/Ubuntu:"; \
	  echo "'sudo apt-get install chromium'; macOS: 'brew install --cask chromium') or point CONVCOURSE_CHROMIUM"; \
	  echo "at a Chromium or Chrome executable; to run everything else: make test PYTEST_ARGS=--ignore=tests/test_browser.py"; \
	fi

# The grading service's tests and benchmark start their own Redis and PostgreSQL (Debian's redis-server and
# postgresql): installed with apt where that works, otherwise explained.
services:
	@if command -v redis-server >/dev/null 2>&1 && compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then :; \
	elif command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then \
	  .ci/install-services; \
	else \
	  echo "redis-server or PostgreSQL was not found, so tests/grader/test_service.py will fail. Install them"; \
	  echo "(Debian/Ubuntu: 'sudo apt-get install redis-server postgresql'); see README, 'A grading service'."; \
	fi

# The grading service (README, "A grading service"): CONVCOURSE_SERVICE names the broker and the database.
# A worker machine needs what grading needs here, and nothing else: the same target on every one of them.
worker-machine: setup runtimes sandbox

worker: worker-machine
	$(BIN)/python -m convcourse.grader.service worker $(if $(WORKERS),--concurrency $(WORKERS))

watch: setup
	$(BIN)/python -m convcourse.grader.service watch --exchange $(EXCHANGE)

reconcile: setup
	$(BIN)/python -m convcourse.grader.service reconcile $(if $(EXCHANGE),--exchange $(EXCHANGE))

service-status: setup
	$(BIN)/python -m convcourse.grader.service status $(ASSIGNMENT)

test: setup runtimes sandbox browser services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

serve: book
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

release: setup
	$(CLASSROOM) release $(ASSIGNMENTS)

# The instructor's flow (README, "For instructors"): ASSIGNMENT=NN_name, ZIP=path/to/lms-download.zip.
collect: setup
	$(CLASSROOM) collect $(ASSIGNMENT)

collect-zip: setup
	$(CLASSROOM) collect-zip $(ASSIGNMENT) $(ZIP)

autograde: setup runtimes sandbox
	$(CLASSROOM) autograde $(ASSIGNMENT) $(if $(WORKERS),--workers $(WORKERS))

feedback: setup
	$(CLASSROOM) feedback $(ASSIGNMENT)

grades: setup
	$(CLASSROOM) grades --output grades.csv

report: setup
	$(CLASSROOM) report --output class-report.html

# It grades, builds the book and runs the suite and the service: it needs what they need.
benchmark: setup runtimes sandbox browser services
	$(BIN)/python -m benchmarks

clean:
	rm -rf _build .grading grades.csv class-report.html
