# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""package.xml and setup.py declare what the code imports, so rosdep and colcon test work in a workspace."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from catkin_pkg.package import parse_package

ROOT = Path(__file__).resolve().parents[1]
# Python module -> rosdep key. ROS packages are their own key; None: no rosdep key exists (pip only).
ROSDEP_KEYS: dict[str, str | None] = {
    **{name: name for name in (
        "rclpy", "ament_index_python", "builtin_interfaces", "std_msgs", "sensor_msgs", "diagnostic_msgs",
        "rcl_interfaces", "rosgraph_msgs", "emotion_msgs", "launch", "launch_ros", "launch_testing",
        "launch_testing_ros", "launch_pytest", "hri_msgs", "lifecycle_msgs")},
    "numpy": "python3-numpy",
    "cv2": "python3-opencv",
    "onnxruntime": "python3-onnxruntime-pip",
    "yaml": "python3-yaml",
    "matplotlib": "python3-matplotlib",
    "tqdm": "python3-tqdm",
    "torch": "python3-torch",
    "torchvision": "python3-torchvision",
    "onnx": None,
    "pytest": "python3-pytest",
    "hypothesis": "python3-hypothesis",
    "catkin_pkg": "python3-catkin-pkg-modules",
    "psycopg": None,  # psycopg 3: no rosdep key (python3-psycopg2 is the older API)
    "uvicorn": "python3-uvicorn",
    "websockets": "python3-websockets",
    "starlette": None,
    "mcap": None,
    "mcap_ros2": None,
    "selenium": "python3-selenium",
    "rosbags": "python3-rosbags-pip",
    "foxglove_schemas_protobuf": None,
    "mutmut": None,  # make mutation only
}
# Run-time dependencies loaded by another one, not imported here: uvicorn's WebSocket protocol.
LOADED_EXEC_DEPENDS = {"python3-websockets"}
# Test dependencies that are not imports: programs the tests start, the pytest plugin pytest.ini configures.
PROGRAM_TEST_DEPENDS = {"postgresql", "python3-pytest-timeout"}
# This repository's own modules, the tests' helpers among them.
OWN = {"emotion_perception", "emotion_perception_training", "training", "benchmarks", "harness",
       *(path.stem for path in (ROOT / "test").glob("*.py"))}


def imported_modules(*folders: str) -> set[str]:
    """Top-level third-party modules imported anywhere under ``folders``."""
    found: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in OWN}


def test_the_tests_never_import_the_benchmarks() -> None:
    """A benchmark may change freely: what the tests share with the benchmarks lives in harness/."""
    importing = sorted(
        path.name for path in (ROOT / "test").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if (isinstance(node, ast.Import) and any(a.name.split(".")[0] == "benchmarks" for a in node.names))
        or (isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "benchmarks"))
    assert importing == []


def keys_for(modules: set[str]) -> set[str]:
    unknown = sorted(modules - ROSDEP_KEYS.keys())
    assert not unknown, f"imports without a known rosdep key: {unknown}; add them to package.xml and ROSDEP_KEYS"
    return {key for name in modules if (key := ROSDEP_KEYS[name]) is not None}


@pytest.fixture(scope="module")
def package():
    package = parse_package(str(ROOT / "package.xml"))
    package.validate()  # a maintainer e-mail that validates, format 3 fields
    return package


def test_exec_depends_are_exactly_what_the_package_imports(package) -> None:
    declared = {dep.name for dep in package.exec_depends} - LOADED_EXEC_DEPENDS
    assert declared == keys_for(imported_modules("emotion_perception", "training", "launch"))


def test_test_depends_cover_what_the_tests_import(package) -> None:
    runtime = {dep.name for dep in package.exec_depends}
    declared = {dep.name for dep in package.test_depends} - PROGRAM_TEST_DEPENDS
    assert keys_for(imported_modules("test")) - runtime == declared


def test_any_platform_opencv_will_do(package) -> None:
    """OpenCV does image operations only (YuNet runs on onnxruntime): Ubuntu 24.04's 4.6 is enough."""
    (opencv,) = [dep for dep in package.exec_depends if dep.name == "python3-opencv"]
    assert opencv.version_gte is None


def test_colcon_test_runs_pytest() -> None:
    """colcon runs unittest (0 tests here) unless setup.py's test extra names pytest."""
    setup_call = next(node for node in ast.walk(ast.parse((ROOT / "setup.py").read_text()))
                      if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup")
    extras = ast.literal_eval(next(kw.value for kw in setup_call.keywords if kw.arg == "extras_require"))
    assert "pytest" in extras["test"]


def test_the_message_package_validates_too() -> None:
    parse_package(str(ROOT / "emotion_msgs" / "package.xml")).validate()
