"""YAML for files people edit by hand (plans as code, connector settings): a repeated key is an error.

PyYAML's `safe_load` keeps the *last* of two equal keys in a mapping without a word, so a plan file with a
second `tiers:` block or a repeated `rate:` would load and pay by whichever came last. A reviewer reading the
file sees both; the platform must not quietly pick one. `load_strict` refuses the file instead, naming the key
and both lines.
"""

from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode


class DuplicateKeyError(yaml.YAMLError):
    """A mapping in the document has the same key twice."""

    def __init__(self, key: object, line: int, first_line: int) -> None:
        self.key = key
        self.line = line
        self.first_line = first_line
        super().__init__(f"line {line}: duplicate key {key!r} (first at line {first_line})")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that raises `DuplicateKeyError` on a repeated mapping key (merge keys `<<` are left to YAML)."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            seen: dict[object, int] = {}
            for key_node, _value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark.line + 1)
                except TypeError as exc:  # an unhashable key; PyYAML's own error says so below
                    raise ConstructorError(None, None, f"unhashable key: {exc}", key_node.start_mark) from None
                if first != key_node.start_mark.line + 1:
                    raise DuplicateKeyError(key, key_node.start_mark.line + 1, first)
        return super().construct_mapping(node, deep=deep)


def load_strict(text: str) -> object:
    """Parse one YAML document like `yaml.safe_load`, but refuse a mapping that repeats a key."""
    return yaml.load(text, Loader=_StrictLoader)
