"""tools/redraw_results.py: a kept results folder's figures redrawn from its files are the
bytes stage plot draws from the same files (the committed metrics/plots/ here)."""
import shutil

import pytest

from stages import UserError
from tests.conftest import ROOT
from tools.redraw_results import redraw


def test_a_redrawn_folder_has_the_figure_the_stage_drew(tmp_path):
    for source, kept in (("metrics/prune_aggregate.csv", "prune_aggregate.csv"), ("metrics/train.json", "train.json"),
                         ("params.yaml", "params.yaml")):
        shutil.copy(ROOT / source, tmp_path / kept)
    assert redraw(tmp_path) == [tmp_path / "accuracy_vs_sparsity.png"]  # no regime in rounds: no lottery figure
    assert (tmp_path / "accuracy_vs_sparsity.png").read_bytes() == \
        (ROOT / "metrics/plots/accuracy_vs_sparsity.png").read_bytes()


def test_a_folder_without_its_params_is_refused(tmp_path):
    with pytest.raises(UserError, match="no params.yaml"):
        redraw(tmp_path)
