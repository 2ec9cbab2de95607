"""prunelab/compute.py: the worker count, parallel maps and tiled products; the same bytes with
one worker or several, from the library up to every stage's artifacts."""
import threading
import time

import pytest
import torch

from prunelab import InputError, compute, fit, stacks
from tests.conftest import commit_all, repro, set_param


@pytest.fixture
def restore_workers():
    before = compute.workers()
    yield
    compute.set_workers(before)


def test_workers_come_from_the_environment_or_the_cores():
    assert compute.workers_from_environment({}) == compute.usable_cores() >= 1
    assert compute.workers_from_environment({"PRUNELAB_WORKERS": "3"}) == 3
    for bad in ("0", "two", "-1", "1.5"):
        with pytest.raises(InputError, match=rf"PRUNELAB_WORKERS='{bad}': expected an integer >= 1"):
            compute.workers_from_environment({"PRUNELAB_WORKERS": bad})


def test_parallel_map_keeps_order_uses_the_workers_and_nests_in_the_workers(restore_workers):
    compute.set_workers(3)
    threads = set()
    together = threading.Barrier(2, timeout=10)  # items 1 and 2 meet: two workers at once

    def inner(item):
        threads.add(threading.get_ident())
        return item * 10

    def outer(item):
        threads.add(threading.get_ident())
        if item in (1, 2):
            together.wait()
        return compute.parallel_map(inner, range(item))  # nested: in the worker's own thread

    assert compute.parallel_map(outer, range(6)) == [[10 * i for i in range(n)] for n in range(6)]
    assert threading.get_ident() not in threads and 1 < len(threads) <= 3


def test_a_nested_map_is_shared_with_an_idle_worker(restore_workers):
    """Three items on two workers: once the second is done, the third's nested items run on both
    workers at once (they meet at a barrier, which one thread alone never passes)."""
    compute.set_workers(2)
    second_done, together = threading.Event(), threading.Barrier(2, timeout=20)

    def inner(item):
        if item < 2:
            together.wait()
        return threading.get_ident()

    def outer(item):
        if item == 1:
            second_done.set()
        if item < 2:
            return []
        second_done.wait(20)
        deadline = time.monotonic() + 20
        while compute._pool["queued"] >= 2 and time.monotonic() < deadline:  # the second's task has ended
            time.sleep(0.001)
        return compute.parallel_map(inner, range(6))

    *_, threads = compute.parallel_map(outer, range(3))
    assert len(threads) == 6 and len(set(threads[:2])) == 2


def test_an_error_in_a_shared_item_reaches_the_caller(restore_workers):
    compute.set_workers(2)

    def inner(item):
        if item == 3:
            raise ValueError("item 3")
        return item

    with pytest.raises(ValueError, match="item 3"):
        compute.parallel_map(lambda _: compute.parallel_map(inner, range(5)), range(2))  # in the workers
    assert compute.parallel_map(lambda n: compute.parallel_map(inner, range(n)), [3, 2]) == [[0, 1, 2], [0, 1]]


def test_a_shared_map_raises_its_first_items_error_whichever_thread_fails_first(restore_workers):
    compute.set_workers(2)
    late = threading.Event()

    def inner(item):
        if item == 1:
            late.wait(5)  # item 3 fails first, in time
            raise ValueError("item 1")
        if item == 3:
            late.set()
            raise ValueError("item 3")
        return item

    def outer(item):
        if item == 0:
            return None
        deadline = time.monotonic() + 20
        while compute._pool["queued"] >= 2 and time.monotonic() < deadline:  # item 0's task has ended
            time.sleep(0.001)
        return compute.parallel_map(inner, range(5))  # shared: one thread waits in item 1, one fails item 3

    with pytest.raises(ValueError, match="item 1"):
        compute.parallel_map(outer, range(2))
    assert late.is_set()  # item 3 ran and failed before item 1 raised


@pytest.mark.parametrize("left, right", [((600, 25), (4, 25, 300)), ((4, 600, 30), (4, 30, 7)),
                                         ((4, 9, 600), (600, 5)), ((4, 600, 1), (4, 1, 20))])
def test_product_is_matmul_and_the_same_bytes_for_any_worker_count(left, right, restore_workers):
    generator = torch.Generator().manual_seed(1)
    a, b = torch.randn(left, generator=generator), torch.randn(right, generator=generator)
    expected = torch.matmul(a, b)
    results = []
    for count in (1, 2, 3):
        compute.set_workers(count)
        results.append(compute.product(a, b, torch.empty_like(expected)))
    assert torch.allclose(results[0], expected, rtol=1e-5, atol=1e-4)
    assert all(torch.equal(results[0], result) for result in results[1:])


@pytest.mark.parametrize("seeds, hidden, features, batch_size", [
    ([0], [257], 130, 512), ([0, 1], [600, 257], 40, 0), ([0, 1, 2, 3, 4], [64], 12, 0)],
    ids=["one stack, tiles of 256 and 1 units", "two stacks of two layers", "five stacks in parallel"])
def test_training_and_evaluation_bytes_do_not_depend_on_the_workers(seeds, hidden, features, batch_size,
                                                                     restore_workers):
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(1100, features, generator=generator)
    y = (x[:, :2].sum(dim=1, keepdim=True) > 0).float()
    initial = stacks.init_stack(seeds, features, hidden)
    # The first case's weight-gradient product is past SMALL: tiled, its last tile one unit wide.
    assert 257 * min(batch_size or len(x), len(x)) * features >= compute.SMALL or len(seeds) > 1
    runs = []
    for count in (1, 2):
        compute.set_workers(count)
        trained = fit.train(initial, x, y, 3, 0.01, batch_size=batch_size, order_seeds=seeds)
        runs.append((trained, stacks.evaluate(trained, x, y)))
    (first, (accuracy, loss)), (second, (accuracy2, loss2)) = runs
    assert all(torch.equal(first[key], second[key]) for key in first)
    assert list(accuracy) == list(accuracy2) and list(loss) == list(loss2)


def test_every_stage_writes_the_same_bytes_with_one_and_two_workers(repo):
    """Minibatches, one seed (a lone stack: its products' tiles go parallel), every regime
    (many stacks in parallel), run with 1 worker and again, forced, with 2."""
    for key, value in (("batch_size", 200), ("repeats", 1), ("epochs", 4)):
        set_param(repo, "train", key, value)
    set_param(repo, "model", "hidden_sizes", "[300]")
    set_param(repo, "prune", "amounts", "[0.3, 0.6, 0.9]")
    set_param(repo, "prune", "regimes", "[one-shot, fine-tune, iterative, lottery-ticket]")
    set_param(repo, "prune", "finetune_epochs", 2)
    commit_all(repo, "small study, minibatches")
    locks = []
    for count, args in (("1", ()), ("2", ("--force",))):
        ran, _ = repro(repo, *args, env={"PRUNELAB_WORKERS": count})
        assert "train" in ran and "prune-sweep" in ran
        locks.append((repo / "dvc.lock").read_text())
    assert locks[0] == locks[1]


# Past the tiling thresholds (SMALL multiply-adds, SMALL // 64 entries for an outer product): the
# product splits into ROWS-row tiles, the last one short. The default pipeline's backward outer
# product (1750 x 256, five models) is the "outer" case.
TILED = [((1100, 130), (3, 130, 150)),   # tall, a shared left operand: five tiles, the last 76 rows
         ((2, 300, 64), (64, 1000)),     # wide, a shared right operand: tiles of 256 and 44 rows
         ((3, 700, 90), (3, 90, 300)),   # both stacked
         ((5, 1750, 1), (5, 1, 256))]    # outer


@pytest.mark.parametrize("left, right", TILED, ids=["tall", "wide", "stacked", "outer"])
@pytest.mark.parametrize("count", [1, 2])
def test_tiled_products_equal_matmul(left, right, count, restore_workers):
    generator = torch.Generator().manual_seed(5)
    a, b = torch.randn(left, generator=generator), torch.randn(right, generator=generator)
    rows, inner, columns = a.shape[-2], a.shape[-1], b.shape[-1]
    threshold = compute.SMALL // 64 if inner == 1 else compute.SMALL
    assert rows * columns * inner >= threshold and rows > compute.ROWS  # tiled, more than one tile
    compute.set_workers(count)
    expected = torch.matmul(a, b)
    result = compute.product(a, b, torch.full_like(expected, float("nan")))
    assert not result.isnan().any()  # every tile written
    torch.testing.assert_close(result, expected, rtol=1e-5, atol=1e-4)
    if inner == 1:
        assert torch.equal(result, expected)  # one multiplication per entry: exact


@pytest.mark.parametrize("left, right", TILED, ids=["tall", "wide", "stacked", "outer"])
def test_tiled_products_run_then_on_every_row_once(left, right, restore_workers):
    """then= (bias and ReLU, as the forward pass gives it) on rows of every tile, each row once,
    in tiles when they run in parallel: the result is relu(a @ b + bias)."""
    generator = torch.Generator().manual_seed(6)
    a, b = torch.randn(left, generator=generator), torch.randn(right, generator=generator)
    models = max(a.shape[0] if a.ndim == 3 else 1, b.shape[0] if b.ndim == 3 else 1)
    bias = torch.randn(models, 1, b.shape[-1], generator=generator)
    expected = torch.relu(torch.matmul(a, b) + bias)
    for count in (1, 2):
        compute.set_workers(count)
        out, calls = torch.empty_like(expected), []

        def then(model, start, stop):
            calls.append((model, start, stop))
            rows = out[model, start:stop]
            rows.add_(bias[model]).relu_()

        compute.product(a, b, out, then=then)
        torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-4)
        if count == 1:
            assert calls == [(slice(None), 0, a.shape[-2])]
        else:  # one call per tile, covering each model's rows once, in ROWS-row steps
            rows = a.shape[-2]
            tiles = [(model, start, min(start + compute.ROWS, rows))
                     for model in range(models) for start in range(0, rows, compute.ROWS)]
            assert sorted(calls) == tiles
