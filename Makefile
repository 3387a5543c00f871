# Two entry points for a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed-core
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: system-deps browser-deps services setup setup-dev demo test test-fast bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e .
	# mediapipe's own dependency list drags in jax + GUI OpenCV; everything it
	# really needs is already installed by the line above.
	$(PIP) install -c constraints.txt --no-deps mediapipe==0.10.21
	touch $@

# torch first, from the CPU build on these machines: asked for later by the gpu extra,
# pip would otherwise fetch the newest release with several GB of CUDA packages.
$(DEVSTAMP): $(STAMP)
	$(PIP) install torch==2.13.0
	$(PIP) install -c constraints.txt -e '.[dev]'
	touch $@

# Debian packages used at run time (espeak-ng library, emoji font); cheap when present.
system-deps:
	bash scripts/system-deps.sh

# ... and Debian's Chromium for the web studio's browser tests (never a downloaded browser).
browser-deps:
	bash scripts/system-deps.sh --browser

# PostgreSQL and Redis for the service's tests (tests/service); quick when they are up.
services:
	bash scripts/ensure-services.sh

setup: system-deps $(STAMP)

setup-dev: system-deps $(DEVSTAMP)

# The demo's default voice needs no system package, so a failed install only warns.
demo: $(STAMP)
	-bash scripts/system-deps.sh
	$(VENV)/bin/personacast demo --out out/demo.mp4

test: browser-deps services $(DEVSTAMP)
	$(PY) -m pytest -q

test-fast: browser-deps services $(DEVSTAMP)
	$(PY) -m pytest -q -m "not slow"

bench: $(DEVSTAMP)
	$(PY) benchmarks/render_speed.py

clean:
	rm -rf $(VENV) out .cache
