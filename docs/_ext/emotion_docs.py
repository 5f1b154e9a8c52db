# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Sphinx directives that render reference tables from the code and the interface files themselves.

- ``parameter-table MODULE``: the node's ``PARAMETERS`` (and ``CONSTRAINTS``) table, the one the node declares from.
- ``message-definition PATH``: an ``emotion_msgs`` ``.msg`` or ``.srv`` file's constants and fields with their comments.
- ``launch-arguments PATH``: the ``DeclareLaunchArgument`` calls of a launch file (read as source, not run).
- ``model-card PATH``: the shipped model card's identity and headline figures.

Paths are relative to the repository root (the folder above ``docs/``), so a change there changes the docs.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[2]


def _cell(content: str | nodes.Node) -> nodes.entry:
    entry = nodes.entry()
    entry += nodes.paragraph("", "", content if isinstance(content, nodes.Node) else nodes.Text(content))
    return entry


def table(headers: list[str], rows: list[list[str | nodes.Node]], widths: list[int] | None = None) -> nodes.table:
    """A docutils table; a cell is text or an inline node (e.g. ``nodes.literal``)."""
    group = nodes.tgroup(cols=len(headers))
    for width in widths or [1] * len(headers):
        group += nodes.colspec(colwidth=width)
    head, body = nodes.thead(), nodes.tbody()
    head += nodes.row("", *[_cell(h) for h in headers])
    for cells in rows:
        body += nodes.row("", *[_cell(c) for c in cells])
    group += head
    group += body
    result = nodes.table()
    result += group
    return result


def code(text: str) -> nodes.literal:
    return nodes.literal(text, text)


def yaml_value(value: object) -> str:
    """A default as it is written in the parameter YAML (``""``, ``false``, ``[0.0, 0.0, 0.0]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    return repr(value)


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}"


def parameter_rows(module_name: str) -> list[list[str | nodes.Node]]:
    """One row per entry of ``module.PARAMETERS``: name, default, allowed values, changeable at runtime, meaning."""
    module = importlib.import_module(module_name)
    constraints: dict[str, str] = getattr(module, "CONSTRAINTS", {})
    rows: list[list[str | nodes.Node]] = []
    for name, (default, description, bounds, read_only) in module.PARAMETERS.items():
        allowed = constraints.get(name) or (f"[{_number(bounds[0])}, {_number(bounds[1])}]" if bounds else "")
        rows.append([code(name), code(yaml_value(default)), allowed, "no" if read_only else "yes", description])
    return rows


class ParameterTable(Directive):
    """``.. parameter-table:: emotion_perception.ros.perception_node``"""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        rows = parameter_rows(self.arguments[0])  # imports the module
        self.state.document.settings.record_dependencies.add(importlib.import_module(self.arguments[0]).__file__)
        return [table(["parameter", "default", "allowed", "runtime", "meaning"], rows, [18, 14, 16, 7, 45])]


@dataclass
class Declaration:
    """One line of a ``.msg``: a constant (``value`` set) or a field, with the comments that document it."""

    type: str
    name: str
    value: str | None
    meaning: str


@dataclass
class InterfacePart:
    """A message, or a service's request or response: its leading description and its declarations."""

    description: str = ""
    declarations: list[Declaration] = field(default_factory=list)


def parse_interface(text: str) -> list[InterfacePart]:
    """A ``.msg`` (one part) or ``.srv`` (request, response) file: a declaration's trailing comment documents it,
    else the comment block above it (which then documents every declaration of that block)."""
    parts = []
    for section in text.split("\n---\n"):
        part = InterfacePart()
        for block in section.strip().split("\n\n"):
            lines = [line.strip() for line in block.splitlines() if line.strip()]
            comments = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
            declarations = [line for line in lines if not line.startswith("#")]
            if not declarations:
                part.description = " ".join(filter(None, [part.description, *comments]))
                continue
            for line in declarations:
                statement, _, trailing = line.partition("#")
                words, _, value = statement.partition("=")
                kind, name = words.split()
                meaning = trailing.strip() or " ".join(comments)
                part.declarations.append(Declaration(kind, name, value.strip() or None, meaning))
        parts.append(part)
    return parts


class MessageDefinition(Directive):
    """``.. message-definition:: emotion_msgs/msg/RobotAction.msg``"""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        path = ROOT / self.arguments[0]
        self.state.document.settings.record_dependencies.add(str(path))
        parts = parse_interface(path.read_text())
        titles = ["request", "response"] if len(parts) == 2 else [""]
        result: list[nodes.Node] = [nodes.paragraph("", "", nodes.Text("Source: "), code(self.arguments[0]))]
        for title, part in zip(titles, parts, strict=True):
            if title:
                result.append(nodes.paragraph("", "", nodes.strong(title, title.capitalize())))
            if part.description:
                result.append(nodes.paragraph(part.description, part.description))
            constants = [[code(d.type), code(d.name), code(d.value), d.meaning] for d in part.declarations if d.value]
            fields = [[code(d.type), code(d.name), d.meaning] for d in part.declarations if d.value is None]
            if constants:
                result.append(table(["type", "constant", "value", "meaning"], constants, [12, 18, 6, 64]))
            if fields:
                result.append(table(["type", "field", "meaning"], fields, [22, 18, 60]))
        return result


def _literal(node: ast.expr | None) -> str:
    """A launch argument's default: a constant as is, a ``PathJoinSubstitution`` as ``<share>/a/b``."""
    if node is None:
        return ""
    if isinstance(node, ast.Constant):
        return node.value if node.value else '""'
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "PathJoinSubstitution":
        parts = [ast.literal_eval(e) for e in node.args[0].elts[1:]]
        return "/".join(["<package share>", *parts])
    return ast.unparse(node)


def launch_arguments(path: Path) -> list[tuple[str, str, list[str], str]]:
    """(name, default, choices, description) of every ``DeclareLaunchArgument`` in a launch file."""
    found = []
    for call in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "DeclareLaunchArgument":
            keywords = {k.arg: k.value for k in call.keywords}
            choices = ast.literal_eval(keywords["choices"]) if "choices" in keywords else []
            found.append((ast.literal_eval(call.args[0]), _literal(keywords.get("default_value")), choices,
                          ast.literal_eval(keywords["description"])))
    return found


class LaunchArguments(Directive):
    """``.. launch-arguments:: launch/perception.launch.py``"""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        path = ROOT / self.arguments[0]
        self.state.document.settings.record_dependencies.add(str(path))
        rows = [[code(name), code(default), " / ".join(choices), description]
                for name, default, choices, description in launch_arguments(path)]
        return [table(["argument", "default", "choices", "meaning"], rows, [14, 22, 10, 54])]


def _f1(value: float) -> str:
    return f"{value:.3f}"


def model_card_rows(card: dict) -> list[list[str | nodes.Node]]:
    """The card's identity, input, calibration and headline figures, as label / value rows."""
    metrics, crop = card["metrics"], card["input"]
    int8 = metrics.get("int8", {}).get("test_int8", {})
    per_class = metrics["per_class_f1"]
    wild = metrics.get("in_the_wild_proxy", {})
    rows: list[list[str | nodes.Node]] = [
        ["architecture", f"{card['architecture']} {card.get('arch_kwargs', {})}"],
        ["classes", ", ".join(card["classes"])],
        ["input", f"{crop['size']}x{crop['size']} {'gray' if crop['grayscale'] else 'colour'}, crop {crop['scale']} x"
                  f" the face box, eyes levelled: {'yes' if crop.get('align') else 'no'}"],
        ["label protocol", card["label_protocol"]],
        ["temperature", f"{card['temperature']:.3f} (calibration error {metrics['ece_before_temperature']:.3f} ->"
                        f" {metrics['ece_after_temperature']:.3f})"],
        ["decision rule", "none (the model's argmax)" if card.get("class_bias") is None else str(card["class_bias"])],
        ["test set", f"{metrics['split']}, n = {metrics['n']}"],
        ["macro-F1 (fp32)", _f1(metrics["macro_f1"])],
        ["F1 negative / neutral / positive", " / ".join(_f1(per_class[c]) for c in card["classes"])],
    ]
    if int8:
        rows.append(["macro-F1 (int8, served)", _f1(int8["macro_f1"])])
    for name, figures in sorted(wild.items()):
        if isinstance(figures, dict) and "macro_f1" in figures:
            rows.append([f"proxy: {name}", f"macro-F1 {_f1(figures['macro_f1'])}, faces found"
                                           f" {figures['faces_found']:.1%}, n = {figures['n']}"])
    if "clip" in wild:
        rows.append(["proxy: demo clip", f"crying read NEGATIVE {wild['clip']['crying']:.1%}, laughing read POSITIVE"
                                         f" {wild['clip']['laughing']:.1%}"])
    rows += [["created", card["created"]], ["git commit", code(card["git_commit"])]]
    return rows


class ModelCard(Directive):
    """``.. model-card:: models/valence_model.json``"""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        path = ROOT / self.arguments[0]
        self.state.document.settings.record_dependencies.add(str(path))
        return [table(["", "shipped model card"], model_card_rows(json.loads(path.read_text())), [25, 75])]


#: A literal's plural in a docstring (two backquotes, face_id, two backquotes, s): reStructuredText reads an unclosed
#: literal there.
LITERAL_PLURAL = re.compile(r"(``[^`\s][^`]*``)(s\b)")


def literal_plurals(_app: Sphinx, _what: str, _name: str, _obj: object, _options: object, lines: list[str]) -> None:
    """Let a literal's plural stand in a docstring: an escaped space ends the literal before the ``s``."""
    lines[:] = [LITERAL_PLURAL.sub(r"\1\\ \2", line) for line in lines]


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("autodoc-process-docstring", literal_plurals)
    app.add_directive("parameter-table", ParameterTable)
    app.add_directive("message-definition", MessageDefinition)
    app.add_directive("launch-arguments", LaunchArguments)
    app.add_directive("model-card", ModelCard)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
