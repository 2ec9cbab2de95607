"""`python -m study run|status|collect|compare|keep|figure STUDY`: see study/__init__.py."""
import argparse

import yaml

import study
from stages import UserError, run
from study import slurm
from study.declared import STUDIES_FILE, study as declared_study
from study.experiments import compare, queue, table
from study.figures import FIGURES_DIR, draw
from study.kept import KEPT_DIR, keep, read_kept

COMMANDS = ("run", "status", "collect", "compare", "keep", "figure")


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m study", description=study.__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        sub = commands.add_parser(name)
        sub.add_argument("study", help=f"a study of {STUDIES_FILE}, or any name with --grid")
        sub.add_argument("--grid", action="append", default=[], metavar="KEY=VALUES",
                         help="a grid key and its values, YAML, comma-separated ('model.hidden_sizes=[16],[64]'); "
                              "repeat for a product; replaces the file's points")
        sub.add_argument("--values", nargs="+", type=yaml.safe_load, metavar="VALUE",
                         help="other values for a study of one key (as -S takes them: 8 or [8])")
        if name == "run":
            sub.add_argument("--on", choices=("local", "slurm"), default="local",
                             help="local: DVC's queue here (default); slurm: one job per point")
            sub.add_argument("-j", "--jobs", type=int, default=2, help="local queue workers (default 2)")
            sub.add_argument("--force", action="store_true", help="rerun experiments that already finished")
            sub.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the experiments")
            sub.add_argument("--no-wait", action="store_true", help="slurm: submit and return (then status, collect)")
            sub.add_argument("--partition", help="slurm: partition (default: the cluster's)")
            sub.add_argument("--time-min", type=int, help="slurm: time limit per job, minutes (default 60)")
            sub.add_argument("--cpus", type=int, help="slurm: CPUs per job (default 1), the stages' PRUNELAB_WORKERS")
            sub.add_argument("--mem-gb", type=float, help="slurm: memory per job, GB (default: the cluster's)")
            sub.add_argument("--folder", help="slurm: submitit's folder of pickles and logs, on a disk the nodes "
                                              "see (default .dvc/tmp/study/STUDY)")
        if name == "compare":
            sub.add_argument("--kept", metavar="FILE", help="the table from a file `keep` wrote, not from the experiments")
        if name == "keep":
            sub.add_argument("-o", "--out", default=str(KEPT_DIR), help=f"folder of STUDY.json (default {KEPT_DIR}/)")
        if name == "figure":
            sub.add_argument("-o", "--out", default=FIGURES_DIR, help=f"folder (default {FIGURES_DIR}/, gitignored)")
    return parser.parse_args(argv)


def run_on_slurm(chosen, args):
    options = {"partition": args.partition, "time_min": args.time_min, "cpus": args.cpus, "mem_gb": args.mem_gb}
    slurm.submit(chosen, options, args.force, args.folder)
    if args.no_wait:
        print(slurm.show_status(chosen))
        return
    failed = slurm.wait(chosen, args.timeout)
    if len(failed) < len(chosen.points):
        print(compare(chosen))
    if failed:
        raise UserError(f"experiments failed: {', '.join(failed)}; run it again to submit them again")


def main(argv=None):
    args = arguments(argv)
    chosen = declared_study(args.study, args.grid, args.values)
    if args.command == "run" and args.on == "slurm":
        run_on_slurm(chosen, args)
    elif args.command == "run":
        queue(chosen, args.jobs, args.force, args.timeout)
    elif args.command == "status":
        print(slurm.show_status(chosen))
    elif args.command == "collect":
        slurm.collect(chosen)
    elif args.command == "compare" and args.kept:
        kept = read_kept(args.kept)
        print(table(kept["keys"], {name: (entry["params"], entry["metrics"]) for name, entry in kept["experiments"].items()}))
    elif args.command == "compare":
        print(compare(chosen))
    elif args.command == "keep":
        print(keep(chosen, args.out))
    else:
        draw(chosen, args.out)


run(main)
