"""Reading a template file safely: size limits, YAML with intrinsic tags and a node budget, JSON
with a container budget, and the line of a key for messages."""

from __future__ import annotations

import bisect
import json
import os
import re
import stat
from collections.abc import Iterable
from typing import Any

import yaml

from lambda_glibc_gate.templates.model import (
    MAX_ALIAS_EXPANSION,
    MAX_JSON_CONTAINERS,
    MAX_TEMPLATE_BYTES,
    MAX_YAML_NODES,
    LineOf,
    TemplateError,
)


def _read_text(path: str, limit: int = MAX_TEMPLATE_BYTES) -> str:
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise TemplateError(f"{path}: cannot read: not a regular file")
        if info.st_size > limit:
            raise TemplateError(_too_large(path, info.st_size, limit))
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:  # grew while we looked
        raise TemplateError(_too_large(path, None, limit))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TemplateError(f"{path}:{line}: cannot parse: not UTF-8 text") from None


def _too_large(path: str, size: int | None, limit: int = MAX_TEMPLATE_BYTES) -> str:
    actual = f" ({size} bytes)" if size is not None else ""
    if limit != MAX_TEMPLATE_BYTES:
        return f"{path}: larger than the {limit // (1024 * 1024)} MB read for a Terraform JSON{actual}: not read"
    return f"{path}: larger than CloudFormation's 1 MB limit for a template{actual}: it cannot deploy, and is not read"


def _load_json(text: str, path: str) -> Any:
    if text.count("{") + text.count("[") > MAX_JSON_CONTAINERS:  # an upper bound, counted in C
        raise TemplateError(f"{path}:1: cannot parse: more than {MAX_JSON_CONTAINERS} JSON objects and arrays")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{path}:{exc.lineno}: cannot parse: {exc.msg}") from None
    except RecursionError:
        raise TemplateError(f"{path}:1: cannot parse: nested too deeply") from None


class _LinedDict(dict):
    """A YAML mapping that remembers the 1-based line of each of its keys."""

    key_lines: dict[Any, int]


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader that reads CloudFormation short-form tags as their long form and keeps lines."""

    nodes_composed = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        # Counted as composed, so a huge flow list is refused before it is all in memory.
        self.nodes_composed += 1
        if self.nodes_composed > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_YAML_NODES} YAML nodes", self.peek_event().start_mark
            )
        return super().compose_node(parent, index)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # SafeConstructor lets Python errors escape for bad typed scalars (!!int xyz, an empty
        # !!int, !!bool maybe): turn them into a YAML error that carries the node's line
        try:
            return super().construct_object(node, deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.tag} value: {exc}", node.start_mark
            ) from None


def _construct_intrinsic(loader: _TemplateLoader, suffix: str, node: yaml.Node) -> dict:
    # !Ref X -> {"Ref": X}, !Condition X -> {"Condition": X}, !Sub s -> {"Fn::Sub": s}, …
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # !GetAtt A.B is the short form of [A, B]
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {key: value}


def _construct_lined_mapping(loader: _TemplateLoader, node: yaml.MappingNode):
    data = _LinedDict()
    data.key_lines = {}
    yield data
    data.update(loader.construct_mapping(node))
    for key_node, _ in node.value:  # merged (<<) keys come first, so a local key wins
        if isinstance(key_node, yaml.ScalarNode):
            data.key_lines[key_node.value] = key_node.start_mark.line + 1


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)
_TemplateLoader.add_constructor("tag:yaml.org,2002:map", _construct_lined_mapping)
# CloudFormation reads 2010-09-09 as a string; a date object (or a bad date) helps no one
_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_scalar)


def _load_yaml(text: str, path: str) -> Any:
    loader = None
    try:
        loader = _TemplateLoader(text)  # the reader already rejects control characters
        node = loader.get_single_node()
        if node is None:
            return None
        _check_alias_expansion(node, path)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        raise TemplateError(f"{path}:{line}: cannot parse: {reason}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: max(exc.position, 0)].count("\n") + 1
        raise TemplateError(f"{path}:{line}: cannot parse: {exc.reason}") from None
    except yaml.YAMLError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise TemplateError(f"{path}:1: cannot parse: {first_line}") from None
    except RecursionError:
        raise TemplateError(f"{path}:1: cannot parse: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_alias_expansion(root: yaml.Node, path: str) -> None:
    """Refuse documents whose aliases expand them far beyond what is written (billion laughs).

    The node graph shares aliased nodes, so its expanded size is computed once per distinct
    node (iteratively: no recursion limit), and a node that contains itself is refused too.
    """
    expanded: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in _children(node))
            continue
        if key in expanded:
            continue
        if key in on_path:
            line = node.start_mark.line + 1
            raise TemplateError(f"{path}:{line}: cannot parse: an alias refers to itself")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    if expanded[id(root)] - len(expanded) > MAX_ALIAS_EXPANSION:
        raise TemplateError(
            f"{path}:1: cannot parse: aliases expand the document by more than {MAX_ALIAS_EXPANSION} nodes"
        )


def _children(node: yaml.Node) -> Iterable[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            yield key_node
            yield value_node
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _yaml_line_of(mapping: Any, key: str) -> int | None:
    return getattr(mapping, "key_lines", {}).get(key)


_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def _json_line_finder(text: str) -> LineOf:
    """JSON has no marks: the line of `"key":` after "Resources" (logical ids are unique).

    One pass over the text (every key's first place, line starts for bisect), so a template
    of thousands of functions costs a dict lookup per function, not a search of the file each.
    """
    start = max(text.find('"Resources"'), 0)
    first_at: dict[str, int] = {}
    for match in _JSON_KEY.finditer(text, start):
        first_at.setdefault(match.group(1), match.start())
    line_starts = [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]

    def line_of(_mapping: Any, key: str) -> int | None:
        position = first_at.get(json.dumps(key)[1:-1])
        return None if position is None else bisect.bisect_right(line_starts, position)

    return line_of
