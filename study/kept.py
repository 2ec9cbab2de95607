"""A study's table kept as a file (`python -m study keep NAME`, docs/studies/NAME.json): each
finished experiment's values of the study's keys and its prune metrics, the inputs of
`compare`'s table. `compare NAME --kept FILE` prints the table from the file, so docs can
quote it and a test can check it on any clone, with no experiment there; `make
check-results` reruns the study and checks that the file is what it keeps again.
"""
import json
from pathlib import Path

from stages import UserError
from stages.artifacts import write_bytes
from study.experiments import finished, param

KEPT_DIR = Path("docs") / "studies"


def kept(study) -> dict:
    """{"study", "keys", "experiments": {name: {"params": {key: value}, "metrics": prune.json}}}."""
    _, done = finished(study)
    keys = study.keys()
    return {"study": study.name, "keys": keys,
            "experiments": {name: {"params": {key: param(params, key) for key in keys}, "metrics": metrics}
                            for name, (_, _, params, metrics) in done.items()}}


def keep(study, folder=KEPT_DIR) -> Path:
    path = Path(folder) / f"{study.name}.json"  # keys in prune.json's order: the table's columns follow it
    write_bytes(path, (json.dumps(kept(study), indent=1) + "\n").encode())
    return path


def read_kept(path) -> dict:
    expected = "a file `python -m study keep` wrote"
    try:
        table = json.loads(Path(path).read_text())
        names = table["experiments"]
        if not names or not all({"params", "metrics"} <= set(entry) for entry in names.values()):
            raise KeyError("experiments")
        return table
    except FileNotFoundError:
        raise UserError(f"{path}: missing; expected {expected}") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise UserError(f"{path}: not a kept study table; expected {expected}") from None
