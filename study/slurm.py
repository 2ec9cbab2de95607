"""A study on a Slurm cluster (`--on slurm`): one job per point, a job array through
submitit; each job runs study/job.py. Results come back as DVC experiments: the jobs push
them (`dvc exp push`) to the git remote `origin` and the DVC remote, `collect` pulls them.

What was submitted is kept in .dvc/tmp/study/STUDY/jobs.json (name -> job id, commit), next
to submitit's folder (the jobs' pickles and logs; on a real cluster it must be on a disk the
nodes see: --folder). A point's state comes from where its result would be, not from this
process: done (its ref is on the git remote), pending or running (squeue), failed (its job
left the queue without pushing: an error, scancel, the time limit; its log says which).
So a killed `run`, or another machine's shell, finds the jobs again.
"""
import json
import sys
import time
from pathlib import Path

from stages import UserError
from study import job
from study.declared import GIVEN_DIR
from study.experiments import clean_tree, dvc, finished_refs, head, report, sh

ORIGIN = "origin"
STATE_DIR = GIVEN_DIR
QUEUED = {"PENDING": "pending", "CONFIGURING": "running", "RUNNING": "running", "COMPLETING": "running",
          "REQUEUED": "pending", "SUSPENDED": "running"}


def folder(study, given=None):
    return Path(given or STATE_DIR / study.name).absolute()


def _jobs_file(study):
    return STATE_DIR / study.name / "jobs.json"


def submitted(study):
    path = _jobs_file(study)
    return json.loads(path.read_text()) if path.exists() else {}


def remote_refs(commit):
    """Names of the experiments on `commit` that the git remote holds: the finished points."""
    prefix = f"refs/exps/{commit[:2]}/{commit[2:]}/"
    listed = sh("git", "ls-remote", ORIGIN, f"{prefix}*")
    return {line.split("\t")[1].removeprefix(prefix) for line in listed.splitlines() if "\t" in line}


def preflight():
    """The commit the jobs will clone, after checking they can: committed, pushed, a DVC remote."""
    if not clean_tree():
        raise UserError("uncommitted changes: the jobs clone the git remote, so commit them and "
                        f"`git push {ORIGIN}` first")
    if not sh("git", "remote").split().count(ORIGIN):
        raise UserError(f"no git remote {ORIGIN}: the jobs clone it (`git remote add {ORIGIN} URL`, then `git push`)")
    commit = head()
    sh("git", "fetch", "-q", ORIGIN)
    if not sh("git", "for-each-ref", "--contains", commit, f"refs/remotes/{ORIGIN}").strip():
        raise UserError(f"commit {commit[:7]} is not on the git remote {ORIGIN}: run `git push {ORIGIN} HEAD`")
    try:
        dvc("config", "--project", "core.remote")
    except UserError:
        raise UserError("no default DVC remote in .dvc/config: run `dvc remote add -d NAME URL` and commit "
                        ".dvc/config (the jobs push their outputs there)") from None
    return commit


def states(study):
    """{name: (state, submitit's JobPaths of its job or None)} of every point on this commit."""
    from submitit.core.utils import JobPaths  # imported here: a local study needs no submitit
    commit = head()
    done = remote_refs(commit) | finished_refs(commit)
    jobs = {name: entry for name, entry in submitted(study).items() if entry["commit"] == commit}
    queued = dict(line.split("|") for line in sh("squeue", "-h", "-r", "-o", "%i|%T").splitlines()) if jobs else {}
    found = {}
    for point in study.points:
        entry = jobs.get(point.name)
        paths = entry and JobPaths(folder(study, entry.get("folder")), job_id=entry["job"])
        if point.name in done:
            found[point.name] = ("done", None)
        elif not entry:
            found[point.name] = ("not submitted", None)
        elif entry["job"] in queued:
            found[point.name] = (QUEUED.get(queued[entry["job"]], queued[entry["job"]].lower()), paths)
        else:
            found[point.name] = ("failed", paths)
    return found


def logs(paths):
    """A job's two logs: its stderr (the error that ended it) and its stdout (each step's
    command and seconds, study/job.py)."""
    return f"{paths.stderr}\t{paths.stdout}"


def show_status(study):
    """One line per point: name, state, and the logs of a failed or running job."""
    lines = [f"{name}\t{state}" + (f"\t{logs(paths)}" if paths and state != "done" else "")
             for name, (state, paths) in states(study).items()]
    return "\n".join(lines)


def submit(study, options, force=False, where=None):
    """Submit a job for every point that is not done, pending or running; returns their names."""
    import cloudpickle  # submitit's own dependency
    import submitit
    commit = preflight()
    if force:  # remove the finished points, there and here, so that they run again
        for remote, names in ((("-g", ORIGIN), remote_refs(commit)), ((), finished_refs(commit))):
            old = [point.name for point in study.points if point.name in names]
            if old:
                dvc("exp", "remove", *remote, *old)
    now = states(study)
    todo = [point for point in study.points if now[point.name][0] in ("not submitted", "failed")]
    print(f"{study.name}: {len(todo)} submitted, {len(study.points) - len(todo)} done or in the queue", file=sys.stderr)
    if not todo:
        return []
    options = {**study.slurm, **{k: v for k, v in options.items() if v is not None}}
    cpus = options.get("cpus", 1)
    executor = submitit.AutoExecutor(folder=folder(study, where), cluster="slurm")
    executor.update_parameters(name=f"study-{study.name}", cpus_per_task=cpus,
                               timeout_min=options.get("time_min", 60), slurm_array_parallelism=len(todo),
                               **({"mem_gb": options["mem_gb"]} if "mem_gb" in options else {}),
                               **({"slurm_partition": options["partition"]} if "partition" in options else {}))
    cloudpickle.register_pickle_by_value(job)  # the nodes need the venv, not this checkout
    url = sh("git", "remote", "get-url", ORIGIN).strip()
    jobs = executor.map_array(job.run_point, [url] * len(todo), [commit] * len(todo),
                              [p.name for p in todo], [p.flags() for p in todo], [cpus] * len(todo))
    record = submitted(study)
    record.update({p.name: {"job": j.job_id, "commit": commit, **({"folder": str(where)} if where else {})}
                   for p, j in zip(todo, jobs)})
    _jobs_file(study).parent.mkdir(parents=True, exist_ok=True)
    _jobs_file(study).write_text(json.dumps(record, indent=1) + "\n")
    return [p.name for p in todo]


def collect(study):
    """`dvc exp pull` every finished point that is not here yet; returns the states."""
    now, here = states(study), finished_refs(head())
    missing = [name for name, (state, _) in now.items() if state == "done" and name not in here]
    if missing:
        dvc("exp", "pull", ORIGIN, *missing)
    print(f"{study.name}: {len(missing)} pulled, {sum(s == 'done' for s, _ in now.values())} of "
          f"{len(now)} done", file=sys.stderr)
    return now


def wait(study, timeout, poll=3):
    """Until no point is pending or running, reporting each as it leaves the queue; then
    collect. Failed points are a UserError."""
    start = time.monotonic()
    now = states(study)
    waiting = {name for name, (state, _) in now.items() if state in ("pending", "running")}
    left = set(waiting)
    while left:
        if time.monotonic() > start + timeout:
            raise UserError(f"study {study.name}: not all jobs finished after {timeout:g} s; they keep running "
                            f"(`python -m study status {study.name}`, then `collect`)")
        time.sleep(poll)
        now = states(study)
        for name in sorted(name for name in left if now[name][0] not in ("pending", "running")):
            left.discard(name)
            report(study, name, now[name][0], len(waiting) - len(left), len(waiting), start)
    now = collect(study)
    failed = [f"{name} ({paths.stderr if paths else None})" for name, (state, paths) in now.items() if state != "done"]
    return failed
