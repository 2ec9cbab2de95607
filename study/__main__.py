"""`python -m study run|compare|figure STUDY`: see study/__init__.py."""
import argparse

import yaml

import study
from stages import UserError, run
from study.experiments import STUDIES, compare, queue
from study.figures import FIGURES_DIR, draw


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m study", description=study.__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "compare", "figure"):
        sub = commands.add_parser(name)
        sub.add_argument("study", help=f"one of {', '.join(STUDIES)}")
        sub.add_argument("--values", nargs="+", type=yaml.safe_load, metavar="VALUE",
                         help="other values than the study's own (as -S takes them: 8 or [8])")
        if name == "run":
            sub.add_argument("-j", "--jobs", type=int, default=2, help="queue workers (default 2)")
            sub.add_argument("--force", action="store_true", help="rerun experiments that already finished")
            sub.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the queue")
        if name == "figure":
            sub.add_argument("-o", "--out", default=FIGURES_DIR, help=f"folder (default {FIGURES_DIR}/, gitignored)")
    args = parser.parse_args(argv)
    if args.study not in STUDIES:
        raise UserError(f"unknown study {args.study!r}: expected one of {', '.join(STUDIES)}")
    if args.command == "run":
        queue(args.study, args.values, args.jobs, args.force, args.timeout)
    elif args.command == "compare":
        print(compare(args.study, args.values))
    else:
        draw(args.study, args.values, args.out)


run(main)
