"""Reading params.yaml: YAML 1.2 numbers (as DVC writes them), repeated keys refused."""
import re
from pathlib import Path

import yaml

from stages import UserError

PARAMS_FILE = Path("params.yaml")


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML follows YAML 1.1, where `1e-3` is a string; DVC (YAML 1.2) writes floats that way.

    It also keeps the last of two equal keys silently; a repeated key is an error here.
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)$"),
    list("-+0123456789."),
)


def parse_params(path=PARAMS_FILE):
    """Parse the params file; a missing or unparsable file is a UserError."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror}); expected the pipeline's params file") from None
    try:
        params = yaml.load(text, Loader=_Yaml12Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = f" ({err.problem})" if getattr(err, "problem", None) else ""
        raise UserError(f"{path}: not valid YAML{where}{problem}; expected a mapping of sections") from None
    return params
