"""IDX images brought in the way docs/real-images.md says: `dvc import-url FOLDER datasets/NAME`
(a local path here, as a URL is for a download), then data.source idx. Real dvc, real git."""
import gzip
import json

import yaml

from stages import paths
from tests.conftest import artifact_files, commit_all, dvc, repro, sh
from tests.idx_files import write_set


def use_idx(repo, folder):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for key in ("n_samples", "n_features", "n_classes", "n_clusters_per_class", "test_size"):
        del params["data"][key]
    params["data"].update(source="idx", path=folder)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def test_an_imported_idx_folder_is_tracked_updated_and_checked(committed, tmp_path):
    repo, source = tmp_path / "repo", tmp_path / "downloads"
    sh(tmp_path, "git", "clone", "-q", str(committed), str(repo))
    write_set(source, train=60, test=20, classes=4, seed=1)
    dvc(repo, "import-url", str(source), "datasets/images")
    use_idx(repo, "datasets/images")
    ran, _ = repro(repo, "generate-data")
    assert ran == ["check-params", "generate-data"]
    summary = json.loads((repo / paths.DATA_METRICS).read_text())
    assert (summary["features"], summary["train"]["samples"], summary["test"]["samples"]) == (6, 60, 20)
    commit_all(repo, "idx images")
    # The source changes: `dvc update` brings the new files in and generate-data reruns on them.
    write_set(source, train=80, test=20, classes=4, seed=2)
    dvc(repo, "update", "datasets/images.dvc")
    ran, _ = repro(repo, "generate-data")
    assert ran == ["check-params", "generate-data"]
    assert json.loads((repo / paths.DATA_METRICS).read_text())["train"]["samples"] == 80
    commit_all(repo, "new images")
    # A truncated file stops the run at check-params, in one line, every artifact untouched.
    before = artifact_files(repo)
    labels = source / "train-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-3], mtime=0))
    dvc(repo, "update", "datasets/images.dvc")
    ran, result = repro(repo, "generate-data", check=False)
    assert result.returncode != 0 and ran == ["check-params"]
    ours = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert ours == ["error: datasets/images/train-labels-idx1-ubyte.gz: truncated: 77 of the 80 bytes of 80 labels"]
    assert "Traceback" not in result.stdout + result.stderr
    assert artifact_files(repo) == before
