"""Studies as data: studies.yaml (or --grid on the command line) declares each study's points,
and every point is checked with the pipeline's own params schema before anything runs.

A study is a grid (a cartesian product: each key's values) and/or a list of explicit points
(override sets); its `slurm:` mapping holds the job options (partition, time_min, cpus,
mem_gb). A point is named STUDY-VALUE-VALUE... from its values in declaration order
(features-10, width-16; a list of several items joins them with `_`: width-300_100): stable,
so a rerun finds it again, and checked to be unique and valid as a git ref.
"""
import itertools
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from stages import UserError, schema
from stages.params_file import PARAMS_FILE

STUDIES_FILE = Path("studies.yaml")
GIVEN_DIR = Path(".dvc/tmp/study")  # the last --grid of each study that is not in the file
JOB_OPTIONS = {"partition": str, "time_min": int, "cpus": int, "mem_gb": (int, float)}


@dataclass
class Point:
    name: str
    sets: dict  # dotted params key -> value, as `dvc exp run -S` takes them

    def flags(self):
        """The -S arguments: values as JSON, which DVC reads as YAML (a list stays a list)."""
        return [arg for key, value in self.sets.items() for arg in ("-S", f"{key}={json.dumps(value)}")]


@dataclass
class Study:
    name: str
    points: list
    slurm: dict = field(default_factory=dict)

    def keys(self):
        """The params keys the points set, in declaration order."""
        return list(dict.fromkeys(key for point in self.points for key in point.sets))


def _token(value):
    """A value in an experiment name: [300, 100] -> 300_100; anything a git ref refuses -> _."""
    text = "_".join(map(str, value)) if isinstance(value, list) else str(value)
    return re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9._+]+", "_", text)).strip("._") or "_"


def point_name(study, sets):
    return "-".join([study, *(_token(value) for value in sets.values())])


def parse_grid(texts):
    """--grid 'KEY=V1,V2' (each value YAML: `model.hidden_sizes=[16],[64]`) -> {KEY: [values]}."""
    grid = {}
    for text in texts:
        key, sep, values = text.partition("=")
        try:
            parsed = yaml.safe_load(f"[{values}]") if sep else None
        except yaml.YAMLError:
            parsed = None
        if not key.strip() or not parsed:
            raise UserError(f"--grid {text!r}: expected KEY=VALUE,VALUE,... (e.g. 'data.n_features=10,20')")
        grid[key.strip()] = parsed
    return grid


def _points(name, grid, explicit, where):
    if not isinstance(grid, dict) or not all(isinstance(v, list) for v in grid.values()):
        raise UserError(f"{where}: grid: expected a mapping of params keys to lists of values")
    if not isinstance(explicit, list) or not all(isinstance(p, dict) and p for p in explicit):
        raise UserError(f"{where}: points: expected a list of mappings of params keys to values")
    sets = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())] if grid else []
    sets += explicit
    if not sets or any(not values for values in grid.values()):
        raise UserError(f"{where}: the study has no points (an empty grid and no points)")
    return [Point(point_name(name, s), s) for s in sets]


def _job_options(options, where):
    if not isinstance(options, dict):
        raise UserError(f"{where}: slurm: expected a mapping with keys {', '.join(JOB_OPTIONS)}")
    for key, value in options.items():
        if key not in JOB_OPTIONS or not isinstance(value, JOB_OPTIONS[key]) or isinstance(value, bool):
            raise UserError(f"{where}: slurm.{key} = {value!r}: expected one of {', '.join(JOB_OPTIONS)} "
                            "(partition a name, time_min and cpus integers, mem_gb a number)")
    return options


def declared(path=STUDIES_FILE):
    """{name: its raw declaration} from the studies file."""
    try:
        studies = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror}); expected the declared studies") from None
    except yaml.YAMLError:
        raise UserError(f"{path}: not valid YAML; expected a mapping of study names to declarations") from None
    if not isinstance(studies, dict) or not all(isinstance(s, dict) for s in studies.values()):
        raise UserError(f"{path}: expected a mapping of study names to mappings with grid, points, slurm")
    return studies


def study(name, grid_texts=(), values=None, path=STUDIES_FILE):
    """The study `name`, from the file, or from --grid (which replaces the file's points);
    values: the old --values, other values for a study of one key. Every point checked."""
    studies = declared(path) if Path(path).exists() or not grid_texts else {}
    where = f"{path}: study {name}"
    given = GIVEN_DIR / name / "grid.json"
    if grid_texts:
        entry, where = {**studies.get(name, {}), "grid": parse_grid(grid_texts), "points": []}, f"study {name}"
    elif name in studies:
        entry = studies[name]
    elif given.exists():  # a study of --grid alone: `status` and `collect` find it without the flags
        entry, where = {"grid": json.loads(given.read_text())}, f"study {name} (the --grid of its last run)"
    else:
        raise UserError(f"unknown study {name!r}: expected one of {', '.join(studies)} ({path}), or --grid")
    unknown = set(entry) - {"grid", "points", "slurm", "about"}
    if unknown:
        raise UserError(f"{where}: unknown field {sorted(unknown)[0]}; expected grid, points, slurm, about")
    grid = entry.get("grid") or {}
    if values is not None:
        if len(grid) != 1 or entry.get("points"):
            raise UserError(f"--values: study {name} is not a grid of one key; use --grid KEY=VALUES")
        grid = {next(iter(grid)): list(values)}
    built = Study(name, _points(name, grid, entry.get("points") or [], where),
                  _job_options(entry.get("slurm") or {}, where))
    check(built)
    if grid_texts and name not in studies:
        given.parent.mkdir(parents=True, exist_ok=True)
        given.write_text(json.dumps(entry["grid"]) + "\n")
    return built


def check(built):
    """Every point's params through the schema; names unique and valid git refs."""
    base = schema.read_params()
    seen = {}
    for point in built.points:
        if point.name in seen:
            raise UserError(f"study {built.name}: two points are named {point.name}: {seen[point.name]} and "
                            f"{point.sets} (give each point different values)")
        seen[point.name] = point.sets
        ref = subprocess.run(["git", "check-ref-format", f"refs/exps/{point.name}"], capture_output=True)
        if ref.returncode != 0 or len(point.name) > 200:
            raise UserError(f"study {built.name}: point {point.sets} gives the name {point.name!r}, not a valid git ref")
        params = yaml.safe_load(yaml.safe_dump(base))  # a deep copy
        for key, value in point.sets.items():
            section, dot, leaf = key.partition(".")
            if not dot or "." in leaf or not isinstance(params.get(section, {}), dict):
                raise UserError(f"study {built.name}: {key}: expected a params key SECTION.KEY (e.g. data.n_features)")
            params.setdefault(section, {})[leaf] = value
        try:
            schema.validate(params)
        except UserError as err:
            message = str(err).removeprefix(f"{PARAMS_FILE}: ")
            raise UserError(f"study {built.name}, point {point.name}: {message}") from None
