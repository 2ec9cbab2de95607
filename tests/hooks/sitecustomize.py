"""Test-only hook (tests/test_faults.py puts this folder on PYTHONPATH): with PRUNELAB_PAUSE_WRITE
set, a stage's first artifact write pauses with its temporary file written and not yet renamed,
after recording the stage's pid in that file, so that a test can send a signal mid-write. Every
other process (dvc itself, which also starts with this PYTHONPATH) renames as usual."""
import os
import time

_MARKER = os.environ.get("PRUNELAB_PAUSE_WRITE")
if _MARKER:
    _replace = os.replace

    def _paused_replace(src, dst, *args, **kwargs):
        # Only stages/artifacts.py's temporaries: `.NAME.tmp` renamed onto NAME beside it.
        if os.path.basename(str(src)) == f".{os.path.basename(str(dst))}.tmp" and os.path.exists(src):
            with open(_MARKER, "w") as marker:
                marker.write(f"{os.getpid()} {src}\n")
            time.sleep(600)  # the test's signal ends this
        return _replace(src, dst, *args, **kwargs)

    os.replace = _paused_replace
