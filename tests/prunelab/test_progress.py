"""prunelab/progress.py: a bar on a terminal's stderr; nothing under CI or without a terminal."""
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from tests.conftest import ENV, ROOT

CODE = "from prunelab.progress import progress\nfor _ in progress(range(3), 'demo loop', 'item'): pass\n"


def stderr_of(terminal, extra):
    env = {key: value for key, value in ENV.items() if key != "CI"}
    env.update(PYTHONPATH=str(ROOT), **extra)
    if not terminal:
        return subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True).stderr
    controller, terminal_end = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, and tqdm draws a bar no wider than its terminal.
    fcntl.ioctl(terminal_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen([sys.executable, "-c", CODE], env=env, stderr=terminal_end, stdout=subprocess.DEVNULL)
    os.close(terminal_end)
    chunks = []
    while True:  # read while it runs: once it exits, Linux drops what the terminal still held
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the process closed the terminal, all read
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait()
    os.close(controller)
    return b"".join(chunks).decode()


def test_a_terminal_shows_the_bar():
    shown = stderr_of(True, {})
    assert "demo loop:" in shown and "0/3" in shown


@pytest.mark.parametrize("terminal, extra", [(True, {"CI": "true"}), (False, {})], ids=["CI", "no terminal"])
def test_quiet_under_ci_or_without_a_terminal(terminal, extra):
    assert stderr_of(terminal, extra) == ""
