"""stages/checkpoints.py: the splits as tensors, checked against each other."""
import numpy as np
import pytest

from stages import UserError, paths
from stages.artifacts import REBUILD, save_arrays
from stages.checkpoints import load_splits


def test_a_test_split_with_other_features_than_the_train_split_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / paths.TRAIN_SPLIT).parent.mkdir(parents=True, exist_ok=True)
    save_arrays(tmp_path / paths.TRAIN_SPLIT, x=np.zeros((6, 4)), y=np.array([0, 1] * 3))
    save_arrays(tmp_path / paths.TEST_SPLIT, x=np.zeros((2, 4)), y=np.array([0, 1]))
    (x_train, y_train), (x_test, y_test) = load_splits()
    assert x_train.shape == (6, 4) and x_test.shape == (2, 4) and y_test.tolist() == [[0.0], [1.0]]
    save_arrays(tmp_path / paths.TEST_SPLIT, x=np.zeros((2, 5)), y=np.array([0, 1]))
    with pytest.raises(UserError) as raised:
        load_splits()
    assert str(raised.value) == (f"{paths.TEST_SPLIT}: x has shape (2, 5); expected 4 features as in "
                                 f"{paths.TRAIN_SPLIT}; {REBUILD}")
