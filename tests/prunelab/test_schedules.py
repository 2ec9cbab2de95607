"""prunelab/schedules.py: the cubic schedule against torch.ao.pruning's own, and the geometric
rounds of iterative pruning against Frankle & Carbin's labels."""
import pytest
from torch.ao.pruning.scheduler.cubic_scheduler import CubicSL

from prunelab.schedules import cubic, geometric_rounds


@pytest.mark.parametrize("s_0, s_f, t_0, dt, n", [(0.0, 0.9, 0, 1, 10), (0.0, 0.5, 0, 3, 7), (0.1, 0.99, 5, 2, 13),
                                                  (0.0, 0.0, 0, 1, 4)])
def test_cubic_is_torch_ao_cubic_sl_at_every_step(s_0, s_f, t_0, dt, n):
    values = []
    for t in range(t_0 - 2, t_0 + dt * n + 3):  # before the start and past the end: clamped
        expected = CubicSL.sparsity_compute_fn(s_0, s_f, t, t_0, dt, n)
        assert cubic(s_0, s_f, t, t_0, dt, n) == expected, t
        values.append(expected)
    assert values[0] == s_0 and values[-1] == s_f
    assert values == sorted(values)  # it only rises


def remaining_percent(rounds):
    return [round(100 * sum(left) / sum(rounds[0]), 1) for left in rounds]


def test_frankle_carbin_rounds_on_lenet_300_100():
    # 784-300-100-10: 235,200 + 30,000 + 1,000 weights; 20 % of each layer's remaining, 10 % of the output's.
    rounds = geometric_rounds([784 * 300, 300 * 100, 100 * 10], [0.2, 0.2, 0.1], 0.985)
    assert sum(rounds[0]) == 266200
    percent = remaining_percent(rounds)
    assert [percent[k] for k in (3, 6, 7, 12, 15, 16, 18)] == [51.3, 26.3, 21.1, 7.0, 3.6, 2.9, 1.9]
    # The notes' closed form, rounded per round as torch rounds a fraction, stays within a weight per round.
    for k, left in enumerate(rounds):
        exact = 265200 * 0.8**k + 1000 * 0.9**k
        assert abs(sum(left) - exact) <= 3 * k + 1, k
    assert (266200 - sum(rounds[-1])) / 266200 >= 0.985 > (266200 - sum(rounds[-2])) / 266200


def test_pooled_rounds_remove_the_rate_of_all_remaining():
    rounds = geometric_rounds([6656], [0.2], 0.9)
    assert rounds[1] == [6656 - round(0.2 * 6656)] and rounds[2] == [rounds[1][0] - round(0.2 * rounds[1][0])]
    assert len(rounds) - 1 == 11  # 0.8**10 = 0.107 > 0.1 >= 0.8**11


def test_rounds_stop_when_nothing_more_would_go():
    assert geometric_rounds([3], [0.1], 0.99) == [[3]]  # round(0.1 * 3) = 0
    assert geometric_rounds([10], [0.5], 0.0) == [[10]]  # the largest level is dense: no round
