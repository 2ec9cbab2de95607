# Two commands: `make repro` runs the pipeline, `make test` runs the test suite.
# Both create .venv and install the pinned dependencies first; the stamp file makes
# a second run skip the install unless requirements.txt changed.
VENV  := .venv
STAMP := $(VENV)/.installed
# dvc.yaml runs `python -m stages.…`; the venv must come first on PATH for it.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: repro test install bench study-features study-width

install: $(STAMP)

$(STAMP): requirements.txt
	@python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: prunelab needs python3 >= 3.11 (torch 2.13.0, numpy 2.4); found $$(python3 --version)" >&2; exit 1; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

repro: $(STAMP)
	dvc repro

test: $(STAMP)
	python -m pytest

bench: $(STAMP)
	python bench/cold_repro.py && python bench/batched_seeds.py

# The complexity studies (stages/study.py): queue one DVC experiment per value, run the
# queue with two workers, wait, print the comparison. Commit changes first: only committed
# files reach a queued experiment.
study-features: $(STAMP)
	python -m stages.study run features

study-width: $(STAMP)
	python -m stages.study run width
