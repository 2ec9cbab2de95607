"""The params schema: defaults accepted, each bad case rejected with a message that names it."""
import subprocess
import sys

import numpy as np
import pytest
import yaml

from stages import UserError, paths
from stages.params_file import _Yaml12Loader
from stages.schema import SCHEMA, read_params, section_keys, validate
from tests.conftest import ENV, ROOT
from tests.idx_files import idx_bytes, write, write_set


def defaults():
    """Every key at its default, as validate returns them."""
    return {section: {name: key.default for name, key in section_keys(section).items()} for section in SCHEMA}


def given_defaults(source="make_classification"):
    """A params file that sets every key that applies to `source` and has a default (csv's path
    and target have none)."""
    return {section: {name: key.default for name, key in section_keys(section).items()
                      if not key.sources or (source in key.sources and key.default != "")}
            for section in SCHEMA}


def with_value(section, key, value):
    params = given_defaults()
    params[section][key] = value
    return params


def test_committed_params_are_the_schema_defaults():
    assert validate(read_params(ROOT / "params.yaml")) == defaults()


def test_default_levels_are_the_seeds_linspace_then_high_levels():
    expected = np.linspace(0.01, 0.5, 20).tolist() + [0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]
    assert SCHEMA["prune"]["amounts"].default == expected


def test_committed_params_write_lists_in_block_style():
    text = (ROOT / "params.yaml").read_text()
    assert "amounts:\n  - 0.01\n" in text


@pytest.mark.parametrize("section, key, value, message", [
    ("data", "n_samples", 0, "data.n_samples = 0: expected an integer in [2, 10**6]"),
    ("data", "n_samples", 10**11, "data.n_samples = 100000000000: expected an integer in [2, 10**6]"),
    ("data", "n_samples", "many", "data.n_samples = 'many': expected an integer in [2, 10**6]"),
    ("data", "n_features", 3, "data.n_features = 3: expected an integer in [4, 10**4]"),
    ("data", "n_classes", 5, "data.n_classes = 5: expected an integer in [2, 4]"),
    ("data", "source", "mnist", "data.source = 'mnist': expected one of make_classification, breast_cancer, digits, "
     "wine, iris, csv, idx"),
    ("data", "standardize", 1, "data.standardize = 1: expected true or false"),
    ("data", "n_clusters_per_class", 3, "data.n_clusters_per_class = 3: expected 1 or 2"),
    ("data", "random_state", -1, "data.random_state = -1: expected an integer in [0, 2**32)"),
    ("data", "test_size", 0, "data.test_size = 0: expected a number in (0, 1)"),
    ("data", "test_size", 1, "data.test_size = 1: expected a number in (0, 1)"),
    ("model", "hidden_sizes", 256, "model.hidden_sizes = 256: expected a non-empty list of integers in [1, 10**5]"),
    ("model", "hidden_sizes", [], "model.hidden_sizes = []: expected a non-empty list of integers in [1, 10**5]"),
    ("model", "hidden_sizes", [300, 0], "model.hidden_sizes[1] = 0: expected an integer in [1, 10**5]"),
    ("model", "hidden_sizes", [12.5], "model.hidden_sizes[0] = 12.5: expected an integer in [1, 10**5]"),
    ("model", "hidden_sizes", [True], "model.hidden_sizes[0] = True: expected an integer in [1, 10**5]"),
    ("train", "seed", True, "train.seed = True: expected an integer in [0, 2**63)"),
    ("train", "epochs", 0, "train.epochs = 0: expected an integer in [1, 10**5]"),
    ("train", "lr", 0, "train.lr = 0: expected a number > 0"),
    ("train", "lr", float("nan"), "train.lr = nan: expected a number > 0"),
    ("train", "lr", float("inf"), "train.lr = inf: expected a number > 0"),
    ("train", "epochs", 10**400, f"train.epochs = {10**400}: expected an integer in [1, 10**5]"),
    ("prune", "tolerance", 10**400, f"prune.tolerance = {10**400}: expected a number in [0, 1]"),
    ("prune", "amounts", 0.5, "prune.amounts = 0.5: expected a list of distinct fractions"),
    ("prune", "thresholds", [0.1, -1], "prune.thresholds[1] = -1: expected a number >= 0"),
    ("prune", "methods", [], "prune.methods = []: expected a list such as [global-magnitude, layerwise-magnitude] of distinct names, one of global-magnitude, layerwise-magnitude, "),
    ("prune", "methods", ["global-magnitude", "obd"], "prune.methods[1] = 'obd': expected one of global-magnitude, "
     "layerwise-magnitude, global-random, layerwise-random, structured"),
    ("prune", "methods", "lamp", "prune.methods = 'lamp': expected a list such as [global-magnitude, "
     "layerwise-magnitude] of distinct names, one of global-magnitude, layerwise-magnitude, global-random"),
    ("prune", "methods", [3], "prune.methods[0] = 3: expected one of global-magnitude,"),
    ("prune", "regimes", ["one-shot", "one-shot"], "prune.regimes[1] = 'one-shot': expected distinct values"),
    ("prune", "regimes", ["rewind"], "prune.regimes[0] = 'rewind': expected one of one-shot, fine-tune, iterative, "
     "lottery-ticket"),
    ("prune", "finetune_epochs", 0, "prune.finetune_epochs = 0: expected an integer in [1, 10**5]"),
    ("prune", "finetune_lr", -0.1, "prune.finetune_lr = -0.1: expected a number > 0"),
    ("train", "repeats", 0, "train.repeats = 0: expected an integer in [1, 1000]"),
    ("sensitivity", "amounts", [], "sensitivity.amounts = []: expected a non-empty list"),
    ("sensitivity", "amounts", [0.5, 1], "sensitivity.amounts[1] = 1: expected a fraction in [0, 1)"),
    ("prune", "amounts", [0.1, 1.0], "prune.amounts[1] = 1.0: expected a fraction in [0, 1)"),
    ("prune", "amounts", [-0.1], "prune.amounts[0] = -0.1: expected a fraction in [0, 1)"),
    ("prune", "amounts", [0.2, 0.3, 0.2], "prune.amounts[2] = 0.2: expected distinct values; it repeats prune.amounts[0]"),
    ("prune", "tolerance", 2, "prune.tolerance = 2: expected a number in [0, 1]"),
    ("prune", "iterative_rate", 0, "prune.iterative_rate = 0: expected a number in (0, 1)"),
    ("prune", "iterative_rate", 1, "prune.iterative_rate = 1: expected a number in (0, 1)"),
    ("prune", "iterative_rate", -0.2, "prune.iterative_rate = -0.2: expected a number in (0, 1)"),
    ("prune", "iterative_output_rate", 1.0, "prune.iterative_output_rate = 1.0: expected 0 (half of "
     "prune.iterative_rate) or a number in (0, 1)"),
    ("prune", "max_output_sparsity", 1.5, "prune.max_output_sparsity = 1.5: expected a number in [0, 1]"),
    ("prune", "rewind_epoch", -1, "prune.rewind_epoch = -1: expected an integer in [0, 10**5]"),
    ("prune", "gradual_epochs", 0, "prune.gradual_epochs = 0: expected an integer in [1, 10**5]"),
    ("prune", "gradual_every", 0, "prune.gradual_every = 0: expected an integer in [1, 10**7]"),
    ("plot", "dpi", 5, "plot.dpi = 5: expected an integer in [10, 600]"),
    ("plot", "width", 0, "plot.width = 0: expected a number in (0, 50]"),
    ("plot", "format", "jpg", "plot.format = 'jpg': expected png or svg"),
])
def test_a_bad_value_names_key_value_and_expectation(section, key, value, message):
    with pytest.raises(UserError) as raised:
        validate(with_value(section, key, value))
    assert str(raised.value).startswith(f"params.yaml: {message}")
    assert "\n" not in str(raised.value)


def test_splits_must_both_be_non_empty():
    params = with_value("data", "n_samples", 3)
    params["data"]["test_size"] = 0.1
    assert validate(params)["data"]["test_size"] == 0.1  # ceil(0.3) = 1 test sample, 2 train
    params["data"]["test_size"] = 0.9
    with pytest.raises(UserError, match=r"gives 3 test samples; expected both splits to be non-empty"):
        validate(params)


def test_unknown_key_unknown_section_and_missing_section():
    params = with_value("train", "momentum", 0.9)
    with pytest.raises(UserError, match="unknown key train.momentum; known keys: seed, epochs, lr, repeats"):
        validate(params)
    with pytest.raises(UserError, match=r"unknown key prune.tolerence; did you mean prune.tolerance\? known keys: amounts"):
        validate(with_value("prune", "tolerence", 0.02))
    with pytest.raises(UserError, match="unknown section 'optimizer'"):
        validate({**given_defaults(), "optimizer": {}})
    params = given_defaults()
    del params["prune"]
    with pytest.raises(UserError, match="missing section 'prune'; expected keys amounts, thresholds, methods"):
        validate(params)


def test_levels_may_come_from_thresholds_alone_but_not_from_nothing():
    params = with_value("prune", "amounts", [])
    params["prune"]["thresholds"] = [0.05]
    assert validate(params)["prune"]["thresholds"] == [0.05]
    params["prune"]["thresholds"] = []
    with pytest.raises(UserError, match="prune.amounts and prune.thresholds are both empty; expected at least one"):
        validate(params)


def test_the_last_seed_must_fit_torch():
    params = with_value("train", "seed", 2**63 - 2)
    params["train"]["repeats"] = 3
    with pytest.raises(UserError, match=r"train.seed \+ train.repeats - 1 = 9223372036854775808"):
        validate(params)


def test_an_absent_key_takes_its_default():
    params = given_defaults()
    del params["train"]["epochs"]
    assert validate(params)["train"]["epochs"] == 20


def test_floats_in_exponent_form_are_numbers_as_in_yaml_1_2():
    # `dvc exp run -S train.lr=1e-3` writes `lr: 1e-3`; plain PyYAML would read a string.
    assert yaml.load("lr: 1e-3\nn: 10\nname: e5", Loader=_Yaml12Loader) == {"lr": 0.001, "n": 10, "name": "e5"}
    assert validate(with_value("train", "lr", 1e-3))["train"]["lr"] == 0.001


def test_unreadable_params_file(tmp_path):
    with pytest.raises(UserError, match="params.yaml: cannot read"):
        read_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("data: [\n")
    with pytest.raises(UserError, match="not valid YAML at line 2"):
        read_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("train:\n  lr: 0.1\n  lr: 0.2\n")
    with pytest.raises(UserError, match="not valid YAML at line 3 \\(key 'lr' appears twice\\)"):
        read_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("- a list\n")
    with pytest.raises(UserError, match="expected a mapping with sections data, model"):
        read_params(tmp_path / "params.yaml")


def test_stage_prints_one_line_and_exits_non_zero(tmp_path):
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text().replace("lr: 0.01", "lr: -2"))
    env = {**ENV, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "stages.check_params"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == "error: params.yaml: train.lr = -2: expected a number > 0\n"
    assert not (tmp_path / paths.PARAMS_OK).exists()


@pytest.mark.parametrize("batch_size, every, fails", [(0, 10, False), (0, 11, True), (875, 20, False), (875, 21, True)])
def test_gradual_every_past_the_gradual_steps_stops_check_params(tmp_path, batch_size, every, fails):
    # The default 2500 samples leave 1750 to train: 10 gradual epochs are 10 full-batch steps, or 20 of 875.
    params = given_defaults()
    params["prune"].update(regimes=["gradual"], gradual_every=every)
    params["train"]["batch_size"] = batch_size
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = subprocess.run([sys.executable, "-m", "stages.check_params"], cwd=tmp_path,
                            env={**ENV, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    if fails:
        assert result.returncode == 1
        assert result.stderr == (f"error: params.yaml: prune.gradual_every = {every}: expected at most the "
                                 f"{10 * (1 if not batch_size else 2)} steps of gradual training "
                                 "(prune.gradual_epochs x minibatches per epoch)\n")
        assert not (tmp_path / paths.PARAMS_OK).exists()
    else:
        assert result.returncode == 0, result.stderr


def for_source(source, **data):
    params = given_defaults(source)
    params["data"]["source"] = source
    params["data"].update(data)
    return params


@pytest.mark.parametrize("source, extra, message", [
    ("digits", {"n_samples": 100}, "data.n_samples is set, but it applies only to data.source make_classification "
     "and data.source is digits; expected it removed"),
    ("make_classification", {"target": "y"}, "data.target is set, but it applies only to data.source csv"),
    ("iris", {"path": "datasets/iris.csv"}, "data.path is set, but it applies only to data.source csv or idx"),
    ("csv", {"path": "datasets/iris.csv", "target": "species", "limit_train": 10},
     "data.limit_train is set, but it applies only to data.source idx and data.source is csv"),
    ("csv", {"path": "datasets/iris.csv"}, "data.source is csv but data.target is not set; expected a column name"),
    ("csv", {"target": "species"}, "data.source is csv but data.path is not set; expected a path under datasets/"),
    ("csv", {"path": "elsewhere/iris.csv", "target": "species"},
     "data.path = 'elsewhere/iris.csv': expected a path under datasets/ ending in .csv"),
    ("csv", {"path": "datasets/../params.csv", "target": "species"}, "data.path = 'datasets/../params.csv'"),
    ("make_classification", {"n_classes": 3}, "data.n_classes * data.n_clusters_per_class = 6; expected at most 4"),
])
def test_keys_must_fit_the_source(source, extra, message):
    with pytest.raises(UserError) as raised:
        validate(for_source(source, **extra))
    assert str(raised.value).startswith(f"params.yaml: {message}")


def test_each_source_accepts_its_own_keys():
    assert validate(for_source("csv", path="datasets/iris.csv", target="species"))["data"]["target"] == "species"
    assert validate(for_source("wine", standardize=True))["data"]["standardize"] is True
    assert validate(for_source("make_classification", n_classes=4, n_clusters_per_class=1))["data"]["n_classes"] == 4


BAD_CSV = [
    ("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n", "label", 0.3, None),  # fine: the control
    ("a,b,label\n1,2,x\n3,4,y\n", "species", 0.3, "no column 'species' (data.target); columns: a, b, label"),
    ("a,b,label\n1,2,x\n3,oops,y\n", "label", 0.3, "line 3, column 'b' = 'oops'; expected a finite number"),
    ("a,b,label\n1,2,x\n3,,y\n", "label", 0.3, "line 3, column 'b' = ''; expected a finite number"),
    ("a,b,label\n1,2,x\n3,4,x\n", "label", 0.3, "column 'label' holds 1 class; expected at least 2"),
    ("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n", "label", 0.9, "4 rows give 4 test and 0 train rows at test_size 0.9"),
    ("a,b,label\n1,2,x\n3,4,\n", "label", 0.3, "line 3, column 'label' = '': an empty label; expected a class label"),
    ("a,b,label\n1,2,x\n3,4,y\n5,6,x\n", "label", 0.3, "column 'label' has class 'y' in 1 row (line 3); expected at "
                                                          "least 2 rows per class"),
    ("a,b,label\n1,2,x\n3,4\n", "label", 0.3, "line 3 has 2 fields; expected 3 as in the header"),
    ("", "label", 0.3, "empty; expected a CSV file with a header row"),
]


@pytest.mark.parametrize("text, target, test_size, message", BAD_CSV)
def test_a_bad_csv_is_one_line_naming_the_file(tmp_path, monkeypatch, text, target, test_size, message):
    """check-params loads the file named by data.path, so a bad one stops the run before generate-data."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets/mine.csv").write_text(text)
    params = for_source("csv", path="datasets/mine.csv", target=target, test_size=test_size)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = subprocess.run([sys.executable, "-m", "stages.check_params"], cwd=tmp_path,
                            env={**ENV, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    if message is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: datasets/mine.csv: {message}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / paths.PARAMS_OK).exists()


def test_a_missing_csv_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(for_source("csv", path="datasets/gone.csv", target="y")))
    result = subprocess.run([sys.executable, "-m", "stages.check_params"], cwd=tmp_path,
                            env={**ENV, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert result.stderr == "error: datasets/gone.csv: missing; expected a CSV file with a header row\n"


def test_checking_the_default_params_loads_neither_torch_nor_scikit_learn(tmp_path):
    # A fresh interpreter runs stage check-params on the committed params, then lists what it loaded.
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    probe = ("import sys; from stages import check_params; check_params.main(); "
             "print(sorted(name for name in ('torch', 'sklearn') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={**ENV, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]" and (tmp_path / paths.PARAMS_OK).exists()


def test_a_new_source_record_brings_its_keys_and_rules(monkeypatch):
    from prunelab import data
    from stages import keys as stage_keys
    toy = data.Source(lambda random_state, n_points, path: None, "a toy",
                      {"n_points": data.Option(10, lambda v: v > 0, "an integer > 0", "points"),
                       "path": data.Option(None, lambda v: v.endswith(".toy"), "a .toy file", "the file", kind=str,
                                           suffix=".toy")},
                      rules=(lambda values: "too many" if values["n_points"] > 99 else None,))
    monkeypatch.setitem(data.SOURCES, "toy", toy)
    keys, own = stage_keys.source_keys.__wrapped__()
    assert keys["n_points"].sources == ("toy",) and keys["n_points"].default == 10
    # An option two sources take is one key that applies to both, checked by each source's own
    # rule; a file lies under datasets/.
    assert keys["path"].sources == ("csv", "idx", "toy") and keys["path"].required
    assert own["toy"]["path"].valid("datasets/a.toy") and not own["toy"]["path"].valid("elsewhere/a.toy")
    assert not own["csv"]["path"].valid("datasets/a.toy")
    assert keys["path"].expected == ("csv: a path under datasets/ ending in .csv; idx: a folder under datasets/; "
                                     "toy: a path under datasets/ ending in .toy")
    monkeypatch.setattr(stage_keys, "source_keys", lambda: (keys, own))
    section = {"source": "toy", "n_points": 100, "path": "datasets/a.toy", "random_state": 1, "test_size": 0.5}
    with pytest.raises(UserError, match="params.yaml: too many$"):
        validate({**given_defaults(), "data": section})
    with pytest.raises(UserError, match=r"data.path = 'datasets/a.csv': expected a path under datasets/ ending in .toy"):
        validate({**given_defaults(), "data": {**section, "n_points": 5, "path": "datasets/a.csv"}})
    del section["path"]
    with pytest.raises(UserError, match="data.source is toy but data.path is not set; expected a path under datasets/"):
        validate({**given_defaults(), "data": section})


def for_idx(**data):
    """An idx data section: its own split, so no data.test_size."""
    params = for_source("idx")
    del params["data"]["test_size"]
    params["data"].update(data)
    return params


@pytest.mark.parametrize("data, message", [
    ({}, "data.source is idx but data.path is not set; expected a folder under datasets/"),
    ({"path": "elsewhere/fashion"}, "data.path = 'elsewhere/fashion': expected a folder under datasets/"),
    ({"path": "datasets/fashion", "test_size": 0.2}, "data.test_size is set, but data.source idx keeps the "
     "dataset's own train/test split; expected it removed"),
    ({"path": "datasets/fashion", "limit_train": -1}, "data.limit_train = -1: expected 0 (all) or an integer"),
])
def test_idx_keys_are_checked(data, message):
    with pytest.raises(UserError) as raised:
        validate(for_idx(**data))
    assert str(raised.value).startswith(f"params.yaml: {message}")
    assert validate(for_idx(path="datasets/fashion", limit_test=5))["data"]["limit_test"] == 5


@pytest.mark.parametrize("bad", [False, True])
def test_a_bad_idx_set_stops_check_params_in_one_line(tmp_path, bad):
    write_set(tmp_path / "datasets/fashion")
    if bad:  # its test labels name a class the training labels lack
        write(tmp_path / "datasets/fashion/t10k-labels-idx1-ubyte", idx_bytes(0x801, np.arange(20) % 6), packed=True)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(for_idx(path="datasets/fashion")))
    result = subprocess.run([sys.executable, "-m", "stages.check_params"], cwd=tmp_path,
                            env={**ENV, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    if not bad:
        assert result.returncode == 0, result.stderr
        return
    assert (result.returncode, result.stderr) == (1, "error: datasets/fashion/t10k-labels-idx1-ubyte.gz: label 5; "
                                                     "expected the training labels' classes 0 .. 3\n")
    assert not (tmp_path / paths.PARAMS_OK).exists()


@pytest.mark.parametrize("prune, message", [
    ({"speedups": [6657]}, "prune.speedups[0] = 6657.0: expected at most 6656 for 25-256-1 (one weight left of 6656)"),
    # 6913 parameters, 257 of them biases: 6913 / (257 + 1) = 26.7946.
    ({"compressions": [27]}, "prune.compressions[0] = 27.0: expected at most 26.7946 for 25-256-1 (one weight and every "
                             "bias left)"),
])
def test_a_budget_no_mask_meets_stops_check_params(tmp_path, prune, message):
    params = given_defaults()
    params["prune"].update(prune)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    result = subprocess.run([sys.executable, "-m", "stages.check_params"], cwd=tmp_path,
                            env={**ENV, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (1, f"error: params.yaml: {message}\n")


@pytest.mark.parametrize("section, key, value, message", [
    ("train", "batch_size", -1, "train.batch_size = -1: expected an integer in [0, 10**7] (0: full batch)"),
    ("train", "batch_size", 1.5, "train.batch_size = 1.5: expected an integer in [0, 10**7] (0: full batch)"),
    ("train", "batch_size", 10**8, "train.batch_size = 100000000: expected an integer in [0, 10**7] (0: full batch)"),
    ("train", "device", "gpu", "train.device = 'gpu': expected cpu or cuda"),
    ("prune", "seed", -1, "prune.seed = -1: expected an integer in [0, 2**63)"),
    ("prune", "seed", 2**63, f"prune.seed = {2**63}: expected an integer in [0, 2**63)"),
    ("plot", "height", 0, "plot.height = 0: expected a number in (0, 50] (inches)"),
    ("plot", "height", 50.5, "plot.height = 50.5: expected a number in (0, 50] (inches)"),
])
def test_bad_batch_sizes_devices_prune_seeds_and_heights_are_one_line(section, key, value, message):
    with pytest.raises(UserError) as raised:
        validate(with_value(section, key, value))
    assert str(raised.value) == f"params.yaml: {message}"


def test_an_empty_csv_target_is_one_line():
    with pytest.raises(UserError) as raised:
        validate(for_source("csv", path="datasets/iris.csv", target=""))
    assert str(raised.value) == "params.yaml: data.target = '': expected a column name"


def test_a_new_regime_record_brings_its_keys_its_setup_and_its_rule(monkeypatch):
    """A regime's record alone makes its prune keys (typed, checked, in the table with the regimes
    that read them), its SweepSetup settings and its fit rule: nothing else names it."""
    from prunelab import regimes
    from prunelab.options import Option
    from stages import keys as stage_keys
    from stages import rules
    toy = regimes.Regime("toy", lambda setup, method: {}, "a toy regime",
                         options={"toy_steps": Option(3, lambda v: 1 <= v <= 9, "an integer in [1, 9]", "steps of it"),
                                  "finetune_lr": regimes.REGIMES["fine-tune"].options["finetune_lr"]},
                         settings=lambda prune: {"toy": prune["toy_steps"]},
                         fits=lambda prune, steps: f"toy needs {prune['toy_steps']} steps" if steps < prune["toy_steps"]
                         else None)
    monkeypatch.setitem(regimes.REGIMES, "toy", toy)
    found = stage_keys.regime_keys.__wrapped__()
    monkeypatch.setattr(stage_keys, "regime_keys", lambda: found)
    assert found["toy_steps"].default == 3 and found["toy_steps"].meaning == "toy: steps of it"
    assert found["finetune_lr"].meaning.startswith("fine-tune, iterative, gradual, toy: ")
    prune = {**given_defaults()["prune"], "regimes": ["toy"], "toy_steps": 4}
    assert validate({**given_defaults(), "prune": prune})["prune"]["toy_steps"] == 4
    with pytest.raises(UserError, match=r"prune.toy_steps = 10: expected an integer in \[1, 9\]$"):
        validate({**given_defaults(), "prune": {**prune, "toy_steps": 10}})
    assert regimes.settings({**defaults()["prune"], "toy_steps": 4})["toy"] == 4
    assert rules.regimes_fit({"regimes": ["toy"], "toy_steps": 4}, 0, 3) == "toy needs 4 steps"
    assert rules.regimes_fit({"regimes": ["toy"], "toy_steps": 4}, 1, 4) is None  # 4 minibatches of one


def test_the_regimes_keys_are_their_records_options():
    from prunelab import regimes
    from stages import keys as stage_keys
    derived = stage_keys.regime_keys()
    assert set(derived) == {name for regime in regimes.REGIMES.values() for name in regime.options}
    assert all(name in section_keys("prune") for name in derived)
    assert derived["rewind_epoch"].meaning.startswith("lottery-ticket: ")
    assert derived["gradual_every"].meaning.startswith("gradual: ")


def test_the_model_keys_are_the_architectures_options_a_list_option_checked_item_by_item(monkeypatch):
    """mlp's hidden_sizes is its record's list option, like any architecture's: a new record's
    list option is a list key (checked item by item, repeats allowed), and the library's build
    checks the same rule."""
    from prunelab import architectures
    from prunelab.options import Option
    from stages import keys as stage_keys
    assert "hidden_sizes" not in SCHEMA["model"]
    mlp = architectures.ARCHITECTURES["mlp"].options["hidden_sizes"]
    assert section_keys("model")["hidden_sizes"].valid is mlp.valid
    toy = architectures.ARCHITECTURES["mlp"].__class__(
        lambda shape, outputs, toy_kernels: None, "a toy", image=True,
        options={"toy_kernels": Option((3, 3), lambda k: k in (1, 3, 5), "a non-empty list of 1, 3 or 5",
                                       "kernel sizes, layer by layer", kind=tuple, item_expected="1, 3 or 5")})
    monkeypatch.setitem(architectures.ARCHITECTURES, "toy", toy)
    found = stage_keys.architecture_keys.__wrapped__()
    monkeypatch.setattr(stage_keys, "architecture_keys", lambda: found)
    assert found["toy_kernels"].default == [3, 3] and found["toy_kernels"].meaning.startswith("toy: kernel sizes")
    model = {**given_defaults()["model"], "toy_kernels": [5, 1, 1]}
    assert validate({**given_defaults(), "model": model})["model"]["toy_kernels"] == [5, 1, 1]
    with pytest.raises(UserError, match=r"model.toy_kernels\[1\] = 4: expected 1, 3 or 5$"):
        validate({**given_defaults(), "model": {**model, "toy_kernels": [5, 4]}})
    with pytest.raises(UserError, match=r"model.hidden_sizes\[1\] = 0: expected an integer in \[1, 10\*\*5\]$"):
        validate({**given_defaults(), "model": {**model, "hidden_sizes": [300, 0]}})
    with pytest.raises(ValueError, match=r"hidden_sizes = \(300, 0\): expected a non-empty list of integers"):
        architectures.ARCHITECTURES["mlp"].build((4,), 2, hidden_sizes=(300, 0))
    with pytest.raises(ValueError, match=r"hidden_sizes = \(\): expected a non-empty list"):
        architectures.ARCHITECTURES["mlp"].build((4,), 2, hidden_sizes=())
