"""The latency command on a tiny pipeline run: a row per method x level x form x batch x threads,
the sweep's own masks, and one-line errors for stale or missing inputs and bad arguments."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from latency.__main__ import main
from prunelab.latency import FORMS
from stages import UserError, generate_data, paths, prune_sweep, train
from tests.conftest import ENV, ROOT

FAST = ["--repeats", "1", "--warmup", "0", "--min-seconds", "0", "--threads", "1"]


def set_params(section, **values):
    params = yaml.safe_load(Path("params.yaml").read_text())
    params[section].update(values)
    Path("params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def trained(workdir):
    set_params("prune", amounts=[0.5, 0.9], regimes=["one-shot"], methods=["global-magnitude", "structured"])
    generate_data.main()
    train.main()
    return workdir


def test_a_row_per_method_level_form_batch_and_threads_with_the_sweeps_sparsities(trained):
    main(["--out", "out", "--batches", "1", "test", "200", *FAST[:-1], "1", "2"])
    table = rows("out/latency.csv")
    test_samples = 90  # 30 % of SMALL's 300 samples
    keys = sorted((row["method"], row["level"], row["form"], row["batch"], row["threads"]) for row in table)
    assert keys == sorted((method, level, form, str(batch), str(count))
                          for method in ("global-magnitude", "structured") for level in ("0.0", "0.5", "0.9")
                          for form in FORMS for batch in (1, test_samples, 200) for count in (1, 2))
    prune_sweep.main()
    swept = {(row["method"], row["level"]): row for row in rows(paths.PRUNE_SWEEP) if row["seed"] == "0"}
    for row in table:
        expected = swept[(row["method"], row["level"])]
        assert float(row["sparsity"]) == pytest.approx(float(expected["sparsity"]), abs=1e-6)
        assert float(row["theoretical_speedup"]) == pytest.approx(float(expected["speedup"]), rel=1e-5)
        assert int(row["hidden_width"]) == int(expected["hidden_width"])
    crossing = rows("out/crossover.csv")
    assert len(crossing) == 2 * (len(FORMS) - 1) * 3 * 2
    machine = json.loads(Path("out/machine.json").read_text())
    assert machine["usable_cores"] >= 1 and machine["pins"]["MKL_CBWR"] == "COMPATIBLE"
    assert machine["command"].startswith("python -m latency --out out")
    figures = {name: Path(f"out/{name}").read_bytes() for name in ("speedup.png", "deployable.png")}
    assert all(png[:4] == b"\x89PNG" for png in figures.values())
    written = Path("out/summary.md").read_text()
    for name in ("summary.md", *figures):
        Path(f"out/{name}").unlink()
    main(["--out", "out", "--summarize"])  # from the CSVs alone: the same tables and figures
    assert Path("out/summary.md").read_text() == written
    assert {name: Path(f"out/{name}").read_bytes() for name in figures} == figures
    table = [line for line in written.splitlines() if line.startswith("| structured | one-shot | shrunk |")]
    assert len(table) == 2 and all(line.count(" at ") == 3 for line in table)  # a table per thread count
    assert f"| method | regime | form | batch 1 | batch {test_samples} | batch 200 |" in written


def test_each_regimes_models_are_the_sweeps_first_seed_ones_round_by_round(trained):
    """The regimes that move masks (rounds, gradual) and one whose masks are one-shot's: each
    row's sparsity and width are those prune-sweep reports for seed 0 at that level or round."""
    regimes = ["fine-tune", "iterative", "lottery-ticket", "gradual"]
    set_params("prune", regimes=regimes, methods=["global-magnitude"], gradual_epochs=2)
    main(["--out", "out", "--batches", "4", "--regimes", *regimes, *FAST])
    prune_sweep.main()
    swept = {(row["regime"], row["round"] or row["level"]): row for row in rows(paths.PRUNE_SWEEP) if row["seed"] == "0"}
    table = [row for row in rows("out/latency.csv") if row["form"] == "dense"]
    named = {row["regime"] for row in table}
    assert named == {"fine-tune", "iterative", "lottery-ticket", "lottery-reinit", "gradual"}
    rounds = [row for row in table if row["level_by"] == "round"]
    assert {row["regime"] for row in rounds} == {"iterative", "lottery-ticket", "lottery-reinit"}
    assert len(rounds) == 3 * sum(1 for key in swept if key[0] == "iterative")  # every round, not only the levels
    for row in table:
        expected = swept[(row["regime"], row["level"] if row["level_by"] != "round" else str(int(row["level"])))]
        assert float(row["sparsity"]) == pytest.approx(float(expected["sparsity"]), abs=1e-6), row
        assert int(row["hidden_width"]) == int(expected["hidden_width"])
    sparsest = {regime: max(float(row["sparsity"]) for row in table if row["regime"] == regime) for regime in named}
    assert sparsest["iterative"] != sparsest["fine-tune"]  # the rounds' masks, not one-shot's
    assert "| global-magnitude | lottery-reinit | scipy-csr |" in Path("out/summary.md").read_text()


def test_the_methods_default_to_the_params_ones(trained):
    set_params("prune", methods=["layerwise-magnitude"])
    main(["--out", "out", "--batches", "2", *FAST])
    assert {row["method"] for row in rows("out/latency.csv")} == {"layerwise-magnitude"}


def test_no_pipeline_run_yet_is_a_one_line_error_naming_the_file(workdir):
    result = subprocess.run([sys.executable, "-m", "latency", *FAST], cwd=workdir, capture_output=True, text=True,
                            env={**ENV, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {paths.TRAIN_SPLIT}: missing") and result.stderr.count("\n") == 1
    assert not (workdir / "latency-results").exists()


def test_checkpoints_that_do_not_fit_the_params_are_an_error(trained):
    set_params("model", hidden_sizes=[8, 8])
    with pytest.raises(UserError, match=r"^data/models.pt: hidden sizes \[16\] .* do not fit params.yaml "
                                        r"\(model.hidden_sizes \[8, 8\].*run `dvc repro`"):
        main(["--out", "out", *FAST])
    set_params("model", hidden_sizes=[16])
    set_params("train", repeats=4)
    with pytest.raises(UserError, match=r"seeds 0..2 do not fit .* seeds 0..3"):
        main(["--out", "out", *FAST])
    assert not Path("out").exists()


def write_lock(**train):
    """A dvc.lock as `dvc repro` writes it, recording the params of generate-data and train."""
    params = yaml.safe_load(Path("params.yaml").read_text())
    stages = {"generate-data": {"params": {"params.yaml": {"data": params["data"]}}},
              "train": {"params": {"params.yaml": {"model": params["model"], "train": {**params["train"], **train}}}}}
    Path("dvc.lock").write_text(yaml.safe_dump({"schema": "2.0", "stages": stages}))


def test_params_changed_since_the_recorded_run_are_a_stale_input(trained):
    write_lock()
    main(["--out", "out", "--batches", "1", *FAST])  # in step: no error
    write_lock(epochs=3)
    with pytest.raises(UserError, match=r"^dvc.lock: stage train ran with train.epochs = 3, params.yaml has 8: its "
                                        r"outputs are stale; run `dvc repro train` first$"):
        main(["--out", "other", *FAST])
    assert not Path("other").exists()


@pytest.mark.parametrize("arguments,message", [
    (["--methods", "snip"], r"^--methods snip: unknown; expected names from global-magnitude"),
    (["--regimes", "prune-at-init"], r"^--regimes prune-at-init: unknown; expected names from one-shot, fine-tune"),
    (["--batches", "0"], r"^--batches 0: expected `test` \(the samples of data/test.npz\) or an integer in \[1, "),
    (["--batches", "-3"], r"^--batches -3: expected"),
    (["--batches", "many"], r"^--batches many: expected"),
    (["--repeats", "0"], r"expected integers >= 1"),
])
def test_bad_arguments_are_one_line_errors(trained, arguments, message):
    with pytest.raises(UserError, match=message):
        main(["--out", "out", *FAST, *arguments])
    assert not Path("out").exists()
