"""A real one-node Slurm cluster in a temporary folder, for the tests and bench/: Debian's
slurm-wlm and munge, started as root from a generated slurm.conf, stopped by PID.

Everything it runs is private to the folder: munged's socket, the daemons' ports (free ones,
picked here), state, spool, logs and pid files, so that two clusters on one machine (two
sessions' tests) do not meet. No systemd and no cgroups: proctrack/linuxproc, task/none.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CONF = """\
ClusterName=prunelab
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={dir}/munge.socket
CredType=cred/munge
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
KillWait=2
SchedulerParameters=sched_interval=1
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
NodeName={host} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def absent_parts():
    """What is missing to start a cluster here, in words; None when nothing is."""
    absent = [name for name in (*DAEMONS, "sbatch", "squeue", "scancel") if shutil.which(name) is None]
    if absent:
        return f"{', '.join(absent)} not found (Debian packages slurm-wlm and munge)"
    if os.geteuid() != 0:
        return "a Slurm cluster started by the tests needs root (munged and slurmd)"
    if not Path("/etc/munge/munge.key").is_file():
        return "/etc/munge/munge.key missing (the munge package makes it)"
    return None


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """start() the daemons from folder `dir`; env holds SLURM_CONF for sbatch and friends."""

    def __init__(self, dir, cpus=2, memory_mb=8192):
        self.dir, self.cpus = Path(dir), cpus
        self.host = socket.gethostname().split(".")[0]
        self.conf = self.dir / "slurm.conf"
        self.env = {"SLURM_CONF": str(self.conf)}
        self.settings = dict(host=self.host, dir=self.dir, cpus=cpus, memory_mb=memory_mb,
                             ctld_port=_free_port(), d_port=_free_port())

    def _run(self, *args):
        return subprocess.run(args, env={**os.environ, **self.env}, capture_output=True, text=True)

    def start(self, timeout=60):
        """Start munged, slurmctld and slurmd; return once the node takes jobs. Raises
        RuntimeError naming the daemon and the end of its log where one does not come up."""
        for sub in ("state", "spool"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(CONF.format(**self.settings))
        munge = ["munged", "--force", f"--socket={self.dir}/munge.socket", f"--pid-file={self.dir}/munged.pid",
                 f"--log-file={self.dir}/munged.log", f"--seed-file={self.dir}/munged.seed",
                 "--key-file=/etc/munge/munge.key"]
        for name, command in (("munged", munge), ("slurmctld", ["slurmctld", "-f", str(self.conf)]),
                              ("slurmd", ["slurmd", "-f", str(self.conf)])):
            started = self._run(*command)
            if started.returncode != 0 or not self._wait_pid(name):
                raise RuntimeError(f"{name} did not start: {(started.stderr or self._log(name)).strip()[-300:]}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self._run("sinfo", "-h", "-N", "-o", "%T").stdout.strip()
            if state in ("idle", "mixed", "allocated"):
                return self
            time.sleep(0.5)
        raise RuntimeError(f"the node stayed {state or 'unknown'}: {self._log('slurmd').strip()[-300:]}")

    def _log(self, name):
        log = self.dir / f"{name}.log"
        return log.read_text() if log.exists() else ""

    def _wait_pid(self, name, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid(name):
                return True
            time.sleep(0.2)
        return False

    def pid(self, name):
        path = self.dir / f"{name}.pid"
        text = path.read_text().strip() if path.exists() else ""
        return int(text) if text.isdigit() else None

    def stop(self):
        """Cancel every job, then stop the daemons by the PIDs in their pid files, last started first."""
        self._run("scancel", "--full", "-u", "root")
        for name in reversed(DAEMONS):
            pid = self.pid(name)
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.2)
