# Two entry points for a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed-core
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: setup setup-dev demo test test-fast bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e .
	# mediapipe's own dependency list drags in jax + GUI OpenCV; everything it
	# really needs is already installed by the line above.
	$(PIP) install -c constraints.txt --no-deps mediapipe==0.10.21
	touch $@

$(DEVSTAMP): $(STAMP)
	$(PIP) install -c constraints.txt -e '.[dev]'
	touch $@

setup: $(STAMP)

setup-dev: $(DEVSTAMP)

demo: $(STAMP)
	$(VENV)/bin/personacast demo --out out/demo.mp4

test: $(DEVSTAMP)
	$(PY) -m pytest -q

test-fast: $(DEVSTAMP)
	$(PY) -m pytest -q -m "not slow"

bench: $(DEVSTAMP)
	$(PY) benchmarks/render_speed.py

clean:
	rm -rf $(VENV) out .cache
