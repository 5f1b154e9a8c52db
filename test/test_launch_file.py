# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""launch/perception.launch.py, checked without `launch` (not installable here): what it names must exist.

The file is read as Python source: every executable it starts is a console script of setup.py whose
module has ``main``, every parameter it passes and every key of config/emotion_perception.yaml is
declared by the node (constructed in-process with its YAML section), and every launch argument is
declared with a description.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
import yaml
from helpers import ROOT
from rclpy.node import Node
from rclpy.parameter import Parameter

from emotion_perception.ros.parameter_file import ParameterFileError, load_node_parameters

LAUNCH = ROOT / "launch" / "perception.launch.py"
YAML = ROOT / "config" / "emotion_perception.yaml"


def _tree() -> ast.Module:
    return ast.parse(LAUNCH.read_text(), filename=str(LAUNCH))


def _calls(name: str) -> list[ast.Call]:
    return [n for n in ast.walk(_tree()) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == name]


def _keyword(call: ast.Call, key: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == key), None)


def _console_scripts() -> dict[str, str]:
    setup = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(setup):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "console_scripts":
                    lines = [ast.literal_eval(e) for e in value.elts]
                    return {name.strip(): target.strip() for name, target in (line.split("=") for line in lines)}
    raise AssertionError("setup.py has no console_scripts")


def _launched_nodes() -> list[tuple[str, str, set[str]]]:
    """(executable, node name, parameter names passed as a dict literal) of every Node(...) in the file."""
    nodes = []
    for call in _calls("Node"):
        executable = ast.literal_eval(_keyword(call, "executable"))
        name = ast.literal_eval(_keyword(call, "name"))
        params = _keyword(call, "parameters")
        keys = {ast.literal_eval(k) for d in ast.walk(params) if isinstance(d, ast.Dict) for k in d.keys}
        nodes.append((executable, name, keys))
    return nodes


def _node_class(executable: str) -> type[Node]:
    module = importlib.import_module(_console_scripts()[executable].split(":")[0])
    classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
               if issubclass(c, Node) and c.__module__ == module.__name__ and c is not Node]
    assert len(classes) >= 1, f"{module.__name__} defines no Node subclass"
    return classes[0]


def _imported_actions() -> set[str]:
    """Names the launch file imports from a ``*.actions`` module (Node, DeclareLaunchArgument, GroupAction, ...)."""
    return {alias.asname or alias.name for n in _tree().body if isinstance(n, ast.ImportFrom)
            and (n.module or "").endswith(".actions") for alias in n.names}


def test_the_launch_description_holds_every_action_the_file_builds() -> None:
    compile(LAUNCH.read_text(), str(LAUNCH), "exec")  # a syntax error fails here
    function, = [n for n in _tree().body if isinstance(n, ast.FunctionDef) and n.name == "generate_launch_description"]
    returned = function.body[-1]
    assert isinstance(returned, ast.Return) and getattr(returned.value.func, "id", None) == "LaunchDescription"
    actions = _imported_actions()
    built: dict[str, ast.expr] = {}  # variable -> the action(s) assigned to it
    for statement in ast.walk(function):
        if isinstance(statement, ast.Assign) and [type(t) for t in statement.targets] == [ast.Name]:
            calls = [c for c in ast.walk(statement.value) if isinstance(c, ast.Call)]
            if any(getattr(c.func, "id", None) in actions for c in calls):
                built[statement.targets[0].id] = statement.value
    assert {"Node", "DeclareLaunchArgument"} <= actions and len(built) >= 3
    used, frontier = set(), [returned.value]
    while frontier:  # variables reachable from the returned description, also through groups
        names = {n.id for n in ast.walk(frontier.pop()) if isinstance(n, ast.Name)} & set(built) - used
        used |= names
        frontier += [built[name] for name in names]
    assert set(built) <= used, f"built but never returned: {sorted(set(built) - used)}"


def test_node_sections_apply_under_any_namespace_and_more_specific_ones_win(tmp_path: Path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("/**:\n  ros__parameters: {a: 1, b: 1, c: 1, qos: {image: {depth: 5}}}\n"
                      "/**/node:\n  ros__parameters: {b: 2, c: 2}\n"
                      "node:\n  ros__parameters: {c: 3, empty: ''}\n"
                      "other:\n  ros__parameters: {c: 9}\n")
    assert load_node_parameters(params, "node") == {"a": 1, "b": 2, "c": 3, "qos.image.depth": 5, "empty": ""}
    assert load_node_parameters(params, "other") == {"a": 1, "b": 1, "c": 9, "qos.image.depth": 5}
    params.write_text("node: {not_ros_parameters: {a: 1}}\n")
    with pytest.raises(ParameterFileError, match="not a ROS 2 parameter file"):
        load_node_parameters(params, "node")
    params.write_text("other:\n  ros__parameters: {a: 1}\n")
    assert load_node_parameters(params, "node") == {}
    with pytest.raises(ParameterFileError, match="No such file"):
        load_node_parameters(tmp_path / "missing.yaml", "node")


def test_every_launch_argument_is_declared_with_a_description() -> None:
    declared = {}
    for call in _calls("DeclareLaunchArgument"):
        description = _keyword(call, "description")
        assert isinstance(description, ast.Constant) and len(description.value) > 20, ast.unparse(call)
        declared[ast.literal_eval(call.args[0])] = call
    used = {ast.literal_eval(c.args[0]) for c in _calls("LaunchConfiguration")}
    assert used == set(declared)
    assert {"image_topic", "compressed", "model_path", "use_sim_time", "use_video", "video_path",
            "use_shm_profile"} <= set(declared)
    assert ast.literal_eval(_keyword(declared["image_topic"], "default_value")) == "camera/image_raw"  # in namespace


def test_packaged_files_the_launch_file_points_to_exist() -> None:
    joined = [[ast.literal_eval(e) for e in c.args[0].elts[1:]] for c in _calls("PathJoinSubstitution")]
    assert ["config", "emotion_perception.yaml"] in joined and ["config", "fastdds_shm.xml"] in joined
    for parts in joined:
        assert ROOT.joinpath(*parts).is_file(), parts


def test_setup_installs_what_the_launch_file_needs() -> None:
    setup = (ROOT / "setup.py").read_text()
    for folder in ("launch", "config", "media"):
        assert f'glob("{folder}/' in setup, f"setup.py data_files do not install {folder}/"


def test_executables_are_console_scripts_with_main() -> None:
    scripts = _console_scripts()
    launched = {executable for executable, _, _ in _launched_nodes()}
    assert launched == {"perception_node", "action_feedback_node", "video_publisher", "dashboard"}
    for executable in {*launched, "train", "evaluate", "capture", "demo"}:
        module_name, function = scripts[executable].split(":")
        assert callable(getattr(importlib.import_module(module_name), function)), executable


@pytest.mark.parametrize("executable", ["perception_node", "action_feedback_node", "video_publisher"])
def test_yaml_and_launch_parameters_are_declared_by_the_node(executable: str, ros_context, tmp_path: Path) -> None:
    (_, node_name, launch_keys), = [n for n in _launched_nodes() if n[0] == executable]
    values = load_node_parameters(YAML, node_name)
    assert values, f"{YAML.name} has no parameters for {node_name}"
    if "stats_db_path" in values:
        values["stats_db_path"] = str(tmp_path / "stats.db")  # keep the test out of ~/.ros
    node = _node_class(executable)(
        context=ros_context, parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])
    try:
        assert node.get_name() == node_name
        for name, value in values.items():
            assert node.has_parameter(name), f"{node_name} does not declare {name} (in {YAML.name})"
            assert node.get_parameter(name).value == value
        undeclared = [k for k in launch_keys if not node.has_parameter(k)]
        assert not undeclared, f"the launch file passes {undeclared} that {node_name} does not declare"
    finally:
        node.destroy_node()


def test_yaml_has_parameters_for_each_launched_node() -> None:
    sections = yaml.safe_load(YAML.read_text())
    assert {f"/**/{name}" for _, name, _ in _launched_nodes()} <= set(sections)  # any namespace
    assert all(set(section) == {"ros__parameters"} for section in sections.values())
    for _, name, _ in _launched_nodes():
        assert load_node_parameters(YAML, name), f"{YAML.name} has no section that applies to {name}"
