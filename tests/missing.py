"""Skips that name a missing component, and CI's rule for them.

A test whose real component (a browser, a namespace, a Slurm cluster, a Debian dataset) is not
on this machine skips with a reason that starts with "missing: " and names it: `missing(what,
how)`, or any `pytest.skip` / `skipif` reason written that way. With `CI` set, `make test` has
installed every component, so such a skip hides a failure: the hook below turns it into one,
with the same reason. Other skips (no CUDA GPU: CI has none) stay skips.
"""
import os

import pytest

PREFIX = "missing: "


def ci(environ=os.environ) -> bool:
    """Whether the tests run in CI: CI set to anything but empty, 0, false or no."""
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str, how: str = "") -> None:
    """Skip (fail in CI) the test: `what` is not on this machine; `how`: how to get it."""
    pytest.skip(PREFIX + what + (f" ({how})" if how else ""))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if not (report.skipped and ci() and isinstance(report.longrepr, tuple)):
        return
    reason = report.longrepr[2].removeprefix("Skipped: ")
    if reason.startswith(PREFIX):
        report.outcome = "failed"
        report.longrepr = f"CI is set and `make test` installs what this test needs, but {reason}"
