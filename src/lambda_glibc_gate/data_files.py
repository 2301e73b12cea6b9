"""The packaged data files (data/*.yaml) as plain values, read once per process.

Every CLI run reads them, so they are read as fast as the safe semantics allow: libyaml's parser
when present, and yaml's safe constructor with one shortcut (see DataLoader). The values are
those of yaml.safe_load (a test compares them)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from yaml.nodes import ScalarNode

_STR_TAG = "tag:yaml.org,2002:str"


class DataLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The safe loader, but a plain string scalar is its own value without the constructor's
    generic dispatch: what SafeConstructor.construct_yaml_str returns (node.value), at about
    half the cost of loading runtimes.yaml. Every other node goes the safe constructor's way."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if node.__class__ is ScalarNode and node.tag == _STR_TAG:
            return node.value
        return super().construct_object(node, deep)


def load_data(name: str) -> Any:
    """data/`name` (a YAML file in the package) as dicts, lists and scalars."""
    text = resources.files("lambda_glibc_gate").joinpath(f"data/{name}").read_text("utf-8")
    return yaml.load(text, Loader=DataLoader)
