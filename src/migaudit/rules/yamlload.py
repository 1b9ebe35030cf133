"""Reading migaudit's own YAML (rule files, `migaudit.yaml`) safely, and checking its keys.

`yaml.safe_load` runs no code, but a 1 KB alias bomb still grows past a gigabyte and deep
nesting ends in a RecursionError. The loader here refuses aliases (migaudit's YAML never
needs them), bounds nesting and size, and keeps each node's line so every error can name
the file, the line and the YAML path.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from migaudit.errors import RuleError

#: deeper than any rule file needs (a rule's groups are 4 levels down)
MAX_DEPTH = 40
#: rule files and release configs are a few kilobytes (PyYAML reads about 1 MB a second)
MAX_BYTES = 1024 * 1024


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and nesting deeper than `MAX_DEPTH`."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"alias *{event.anchor} (YAML aliases are not allowed here; write the value out)",
                event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:  # type: ignore[override]
        """A key given twice is an error: the last one winning would hide the first."""
        seen: dict[str, int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key.value!r} given twice (first on line {seen[key.value]})",
                        key.start_mark)
                seen[key.value] = key.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _flow_depth(text: str) -> tuple[int, int]:
    """(deepest [ { nesting, its line), counted without parsing: PyYAML's scanner is
    quadratic in flow depth, so 5,000 brackets would take seconds before any bound applies."""
    depth = deepest = line = at = 0
    for i, ch in enumerate(text):
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest, at = depth, i
                if deepest > MAX_DEPTH:
                    break
        elif ch in "]}" and depth:
            depth -= 1
    line = text.count("\n", 0, at) + 1
    return deepest, line


def lines_of(node: yaml.Node | None, path: str = "") -> dict[str, int]:
    """YAML path (`rules[2].expr`) → line number, so errors can point into the file."""
    if node is None:
        return {}
    out: dict[str, int] = {}
    stack: list[tuple[yaml.Node, str]] = [(node, path)]
    while stack:
        n, p = stack.pop()
        out.setdefault(p, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = str(k.value) if isinstance(k, yaml.ScalarNode) else "?"
                stack.append((v, f"{p}.{key}" if p else key))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((v, f"{p}[{i}]") for i, v in enumerate(n.value))
    return out


def parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """(document, path → line) of YAML text; RuleError naming the line for anything malformed."""
    if len(text) > MAX_BYTES:
        raise RuleError(f"{len(text)} characters: too large for a rule or release file", source=source,
                        expected=f"under {MAX_BYTES // (1024 * 1024)} MB")
    depth, line = _flow_depth(text) if ("[" in text or "{" in text) else (0, 0)
    if depth > MAX_DEPTH:
        raise RuleError(f"malformed YAML: brackets nested deeper than {MAX_DEPTH} levels", source=source,
                        where=f"line {line}")
    loader = None
    try:
        loader = _SafeLoader(text)
        node = loader.get_single_node()
        doc = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise RuleError(f"malformed YAML: {problem}", source=source,
                        where=f"line {mark.line + 1}" if mark else None) from None
    except RecursionError:
        raise RuleError("malformed YAML: nested too deeply", source=source) from None
    finally:
        if loader is not None:
            loader.dispose()
    return doc, lines_of(node)


def read_yaml(path: Path, what: str = "rule file") -> tuple[Any, dict[str, int]]:
    """`parse_yaml` of a UTF-8 file; RuleError naming the line of a byte that is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RuleError(f"cannot read {what}: {e.strerror}", source=str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise RuleError(f"byte 0x{data[e.start]:02x} is not UTF-8 (saved as Latin-1 or Windows-1252?)",
                        source=str(path), where=f"line {line}", expected=f"a {what} in UTF-8") from None
    return parse_yaml(text, str(path))


def closest(name: object, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest known name, or the known names when none is close."""
    known = sorted(set(known))
    hits = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    if hits:
        return f" (did you mean {hits[0]!r}?)"
    return f" (known: {', '.join(known)})" if len(known) <= 12 else ""


class Place:
    """Where in a YAML file a value sits: makes RuleErrors with file, line and path."""

    def __init__(self, source: str, lines: dict[str, int], path: str = "") -> None:
        self.source, self.lines, self.path = source, lines, path

    def __truediv__(self, key: str | int) -> Place:
        if isinstance(key, int):
            return Place(self.source, self.lines, f"{self.path}[{key}]")
        return Place(self.source, self.lines, f"{self.path}.{key}" if self.path else str(key))

    @property
    def where(self) -> str:
        p = self.path
        line = self.lines.get(p)
        while line is None and p:
            p = p.rsplit("[", 1)[0] if p.endswith("]") else p.rsplit(".", 1)[0] if "." in p else ""
            line = self.lines.get(p)
        label = self.path or "top level"
        return f"line {line}: {label}" if line else label

    def error(self, message: str, expected: str | None = None) -> RuleError:
        return RuleError(message, source=self.source, where=self.where, expected=expected)

    def keys(self, d: dict, allowed: Iterable[str], what: str) -> None:
        """RuleError naming the first unknown key of `d` and the closest allowed one."""
        allowed = set(allowed)
        for k in d:
            if not isinstance(k, str):
                raise self.error(f"key {k!r} of {what} is not a name", ", ".join(sorted(allowed)))
            if k not in allowed:
                raise (self / k).error(f"unknown key {k!r} in {what}{closest(k, allowed)}",
                                       ", ".join(sorted(allowed)))

    def string(self, value: Any, what: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
            raise self.error(f"{what} must be a name, got {value!r}", "a non-empty string")
        return str(value)

    def boolean(self, value: Any, what: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(f"{what} must be true or false, got {value!r}", "true or false")
        return value

    def number(self, value: Any, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise self.error(f"{what} {value!r} is not a finite non-negative number", "e.g. 0 or 0.5")
        return float(value)

    def names(self, value: Any, what: str) -> tuple[str, ...]:
        """A name or a list of names."""
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return (self.string(value, what),)
        if isinstance(value, list):
            return tuple((self / i).string(v, what) for i, v in enumerate(value))
        raise self.error(f"{what} must be a name or a list of names, got {value!r}", "NAME or [NAME, ...]")
