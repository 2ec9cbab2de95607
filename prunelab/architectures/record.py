"""The Architecture record (see __init__). It loads without torch: the params check reads the
records; building a module, and what is read from one (base.py), loads torch."""
import dataclasses
import importlib
from dataclasses import dataclass, field
from typing import Callable

from prunelab.shapes import outputs_for


def _base():
    return importlib.import_module("prunelab.architectures.base")


@dataclass(frozen=True)
class Architecture:
    make: Callable                  # make(input_shape, outputs, **options) -> module
    about: str
    image: bool | None              # takes (channels, height, width); False: (features,); None: any shape
    options: dict = field(default_factory=dict)  # name -> prunelab.options.Option, in the order shown
    outputs: Callable[[int], int] = outputs_for  # the outputs it has for a number of classes

    def build(self, input_shape: tuple, classes: int, **options):
        """The module for inputs of `input_shape` (one sample's) and `classes` classes."""
        if self.image is not None and len(input_shape) != (3 if self.image else 1):
            raise ValueError(f"input shape {tuple(input_shape)}: expected "
                             f"{'(channels, height, width)' if self.image else '(features,)'}")
        unknown = set(options) - set(self.options)
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}; it takes {sorted(self.options)}")
        values = {name: options.get(name, option.default) for name, option in self.options.items()}
        for name, value in values.items():
            if not self.options[name].accepts(value):
                raise ValueError(f"{name} = {value!r}: expected {self.options[name].expected}")
        return self.make(tuple(input_shape), self.outputs(classes), **values)

    def configured(self, **options) -> "Architecture":
        """The same record whose options default to these values (what params set): every later
        build(shape, classes) builds that variant."""
        unknown = set(options) - set(self.options)
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}; it takes {sorted(self.options)}")
        return dataclasses.replace(self, options={name: dataclasses.replace(option, default=options.get(
            name, option.default)) for name, option in self.options.items()})

    # What is read from a built module (base.py's), here too for a record's users.
    @staticmethod
    def layers(module):
        return _base().layers(module)

    @staticmethod
    def units(module):
        return _base().units(module)

    @staticmethod
    def weight_counts(module):
        return _base().weight_counts(module)

    @staticmethod
    def multiply_adds(module, input_shape, masks=None):
        return _base().multiply_adds(module, input_shape, masks)
