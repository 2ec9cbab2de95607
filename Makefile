# Two commands: `make repro` runs the pipeline, `make test` runs the test suite.
# Both create .venv and install the pinned dependencies first; the stamp file makes
# a second run skip the install unless requirements.txt changed.
VENV  := .venv
STAMP := $(VENV)/.installed
# dvc.yaml runs `python -m stages.…`; the venv must come first on PATH for it.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: repro test install bench browser latency study-features study-width

install: $(STAMP)

$(STAMP): requirements.txt
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: prunelab needs python3 >= 3.11 (torch 2.13.0, numpy 2.4); found $$(python3 --version)" >&2; exit 1; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

repro: $(STAMP)
	dvc repro

test: $(STAMP) browser
	python -m pytest

# tests/test_plots_page.py draws the plots page in Debian's chromium: install it where we can
# (root, with apt-get); elsewhere do nothing, and that test skips, naming what is missing.
browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "note: could not install chromium; the browser test will skip" >&2

bench: $(STAMP)
	python bench/cold_repro.py && python bench/batched_seeds.py && python bench/pinned_numerics.py && python bench/scale.py && python bench/sparse_latency.py

# Measured inference time of every method and level, dense, sparse and shrunk (python -m
# latency): machine-dependent, so not a stage; it needs only stage train's outputs. ARGS: e.g.
# ARGS='--out docs/results/latency-default --methods global-magnitude structured'.
latency: $(STAMP)
	dvc repro train
	python -m latency $(ARGS)

# The complexity studies (the study tool, study/): queue one DVC experiment per value, run the
# queue with two workers, wait, print the comparison. Commit changes first: only committed
# files reach a queued experiment.
study-features: $(STAMP)
	python -m study run features

study-width: $(STAMP)
	python -m study run width
