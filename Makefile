# Two commands: `make repro` runs the pipeline, `make test` runs the test suite.
# Both create .venv and install the pinned dependencies first; the stamp file makes
# a second run skip the install unless requirements.txt changed.
VENV  := .venv
STAMP := $(VENV)/.installed
# dvc.yaml runs `python -m stages.…`; the venv must come first on PATH for it.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: repro test install bench system latency study-features study-width check-results

install: $(STAMP)

$(STAMP): requirements.txt
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: prunelab needs python3 >= 3.11 (torch 2.13.0, numpy 2.4); found $$(python3 --version)" >&2; exit 1; }
	python3 -m venv $(VENV)
	@echo "installing torch 2.13.0 and the pinned requirements.txt into $(VENV) (about 4 minutes, once)"
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

repro: $(STAMP)
	dvc repro

test: $(STAMP) system
	python -m pytest

# The tests run real components from Debian: chromium (the plots page), dataset-fashion-mnist
# (the IDX reader on the real files), slurm-wlm and munge (a one-node Slurm cluster). Install
# the missing ones where we can (root, with apt-get), one by one so that one unavailable package
# does not cost the others; elsewhere do nothing, and the tests that need them skip, naming what
# is missing (with CI set they fail instead).
SYSTEM_PACKAGES := chromium dataset-fashion-mnist slurm-wlm munge
system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	[ -z "$$missing" ] || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || \
	  { apt-get update -qq; for p in $$missing; do \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p >/dev/null || \
	      echo "note: could not install $$p; the tests that need it will skip" >&2; done; }

# What docs/ quotes from runs too slow for `make test` (docs/results/*, the studies' tables),
# rerun in clones of this tree and compared (tests/test_regenerate.py; about two hours on two cores, the Fashion-MNIST runs most of it).
check-results: $(STAMP)
	PRUNELAB_REGENERATE=1 python -m pytest tests/test_regenerate.py

bench: $(STAMP) system
	python bench/cold_repro.py && python bench/batched_seeds.py && python bench/pinned_numerics.py && python bench/scale.py && python bench/sparse_latency.py && python bench/real_images.py && python bench/csv_read.py && python bench/conv.py && python bench/conv_memory.py

# Measured inference time of every method and level, dense, sparse and shrunk (python -m
# latency): machine-dependent, so not a stage; it needs only stage train's outputs. ARGS: e.g.
# ARGS='--out docs/results/latency-default --methods global-magnitude structured'.
latency: $(STAMP)
	dvc repro train
	python -m latency $(ARGS)

# The complexity studies (the study tool, study/; declared in studies.yaml): queue one DVC
# experiment per value, run the queue with two workers, wait, print the comparison. Commit
# changes first: only committed files reach a queued experiment. On Slurm: docs/cluster.md.
study-features: $(STAMP)
	python -m study run features

study-width: $(STAMP)
	python -m study run width
