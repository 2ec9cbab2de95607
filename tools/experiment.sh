#!/usr/bin/env bash
# Run one experiment in a temporary clone of the committed HEAD (the working tree stays clean)
# and keep its results under docs/results/NAME/: the results table, prune.json and the
# accuracy-vs-sparsity figure, with the command that made them.
#   tools/experiment.sh NAME [-S key=value ...]     (the venv first on PATH)
# EXPERIMENT_DATA=FOLDER copies a dataset folder (IDX files, ...) into the clone's datasets/
# first, for data the repository does not hold (docs/real-images.md).
set -euo pipefail
name=$1; shift
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/repo"
cd "$work/repo"
if [ -n "${EXPERIMENT_DATA:-}" ]; then cp -r "$EXPERIMENT_DATA" datasets/; fi
dvc exp run -q -n "$name" "$@"
out="$root/docs/results/$name"
mkdir -p "$out"
# The artifacts' paths, as stages/paths.py (the one place) names them.
python -c 'from stages import paths as p; print(f"{p.PLOTS_DIR}/accuracy_vs_sparsity.png", p.PRUNE_METRICS,
                                                p.PRUNE_AGGREGATE, p.TRAIN_METRICS, p.TRAIN_CURVE, p.DATA_METRICS, sep="\n")' \
  | while read -r path; do cp "$path" "$out/"; done
# The lottery ticket figure, where a regime pruned in rounds (stages/plot.py draws it then).
python -c 'from stages import paths; print(paths.PLOTS_DIR)' | while read -r plots; do
  if [ -f "$plots/lottery_ticket.png" ]; then cp "$plots/lottery_ticket.png" "$out/"; fi; done
cp params.yaml "$out/params.yaml"  # what it ran with: prose figures built from params read these
python -m stages.results > "$out/results.md"
printf '%stools/experiment.sh %s' "${EXPERIMENT_DATA:+EXPERIMENT_DATA=$EXPERIMENT_DATA }" "$name" > "$out/command.txt"
printf " '%s'" "$@" >> "$out/command.txt"
printf '\n(commit %s)\n' "$(git rev-parse --short HEAD)" >> "$out/command.txt"
cat "$out/results.md"
