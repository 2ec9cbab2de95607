"""Push DVC's run cache with the outputs its entries restore: `dvc push --run-cache` and more.

`dvc push --run-cache` (dvc 3.x) sends only the run-cache entries, the records of each stage
run; the outputs they point to reach the remote only when a later `dvc push` happens to send
them, and the committed outputs (`cache: false`: metrics, CSVs, figures) never do. A teammate
who pulls the entries then has records without files, and the stages run again. This sends
the entries and every file they restore, so that a teammate's `dvc repro --pull` (which fetches both) restores any params set that was run here.

Usage: python tools/push_run_cache.py [-r REMOTE]
"""
import argparse
from pathlib import Path

from dvc.repo import Repo


def entries(repo):
    """Every run-cache entry of this repository, as (key, value) pairs."""
    runs = Path(repo.cache.legacy.path) / "runs"
    return [(path.parent.name, path.name) for path in sorted(runs.glob("*/*/*")) if path.is_file()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--remote", help="the DVC remote (default: the default remote)")
    remote = parser.parse_args().remote
    with Repo() as repo:
        repo.stage_cache.push(remote)
        found = entries(repo)
        objs = set().union(*repo.stage_cache.get_used_objs(found, remote=remote).values())
        pushed = len(repo.cloud.push(objs, remote=remote).transferred)
    print(f"{len(found)} run-cache entries and {pushed} new output files pushed")


if __name__ == "__main__":
    main()
