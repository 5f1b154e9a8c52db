# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The documentation site builds as ``make docs`` builds it, with no warning and no broken internal link, and its
reference pages say what the code says: every node parameter with its default, every message field and constant.

Also here: ``config/emotion_perception.yaml`` holds exactly each node's declared defaults (the docs' tables come from
the code, the YAML is what users copy: the two must not drift).
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from helpers import ROOT
from readme_lines import workspace_lines

from emotion_msgs import msg, srv


def _docs_module(relative: str) -> ModuleType:
    """A module of docs/ (not a package: the site's build scripts), loaded from its file."""
    path = ROOT / "docs" / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


broken_links = _docs_module("check_links.py").broken_links
yaml_value = _docs_module("_ext/emotion_docs.py").yaml_value

#: The node modules whose PARAMETERS the docs render, and their YAML sections.
NODES = {
    "emotion_perception.ros.perception_node": "/**/perception_node",
    "emotion_perception.ros.action_feedback_node": "/**/action_feedback_node",
    "emotion_perception.ros.dashboard_node": "/**/dashboard",
    "emotion_perception.tools.video_publisher": "/**/video_publisher",
}
BUILD_TIMEOUT_S = 240


def _text(page: Path) -> str:
    """A built page's visible text, one space between words."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page.read_text(encoding="utf-8"), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make docs``'s build, into a fresh folder: it must finish with status 0 and no warning."""
    out = tmp_path_factory.mktemp("docs")
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(out / "doctrees"),
         str(ROOT / "docs"), str(out / "html")],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, cwd=ROOT)
    assert built.returncode == 0 and "WARNING" not in built.stderr + built.stdout, built.stderr + built.stdout
    return out / "html"


def test_the_site_builds_without_warnings_and_no_internal_link_is_broken(site: Path) -> None:
    assert broken_links(site) == []
    pages = {path.stem for path in site.glob("*.html")}
    assert {"index", "concepts", "nodes", "messages", "planner", "api", "performance", "troubleshooting"} <= pages
    assert "EmotionRecognizer" in _text(site / "api.html")  # autodoc imported the modules


def test_make_docs_runs_the_same_build() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ndocs:", 1)[1].split("\n\n", 1)[0]
    assert "sphinx -E -W --keep-going" in recipe and "docs/check_links.py out/docs/html" in recipe


@pytest.mark.parametrize("module_name", NODES)
def test_each_parameter_is_documented_with_its_default(site: Path, module_name: str) -> None:
    text = _text(site / "nodes.html")
    for name, (default, description, _, _) in importlib.import_module(module_name).PARAMETERS.items():
        row = f"{name} {yaml_value(default)}"
        assert row in text, f"{module_name}: no row '{row}' in nodes.html"
        assert " ".join(html.unescape(description).split()) in text, description


def test_every_message_field_and_constant_is_documented(site: Path) -> None:
    text = _text(site / "messages.html")
    kinds = [getattr(msg, path.stem) for path in (ROOT / "emotion_msgs" / "msg").glob("*.msg")]
    kinds += [part for path in (ROOT / "emotion_msgs" / "srv").glob("*.srv")
              for part in (getattr(srv, path.stem).Request, getattr(srv, path.stem).Response)]
    assert len(kinds) == 7
    for kind in kinds:
        for field in kind.get_fields_and_field_types():
            assert re.search(rf"\b{field}\b", text), f"{kind.__name__}.{field} is not in messages.html"
        constants = {name: value for name in dir(kind) if name.isupper()
                     and isinstance(value := getattr(kind, name), int | float | str)}  # not SLOT_TYPES
        for name, value in constants.items():
            assert f"{name} {value}" in text, f"{kind.__name__}.{name} = {value} is not in messages.html"


def test_the_broken_link_check_finds_a_missing_page_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text('<h1 id="top">A</h1><a href="b.html#there">b</a><img src="_static/x.svg">'
                                     '<a href="#top">up</a><a href="https://example.org/nowhere">out</a>')
    (tmp_path / "b.html").write_text('<section id="there"></section><a href="c.html">c</a><a href="a.html#gone">a</a>')
    assert broken_links(tmp_path) == ["a.html: _static/x.svg (no such file)", "b.html: c.html (no such file)",
                                      "b.html: a.html#gone (no anchor #gone)"]


@pytest.mark.parametrize(("module_name", "section"), NODES.items())
def test_the_yaml_holds_exactly_the_declared_defaults(module_name: str, section: str) -> None:
    document = yaml.safe_load((ROOT / "config" / "emotion_perception.yaml").read_text())
    declared = {name: spec[0] for name, spec in importlib.import_module(module_name).PARAMETERS.items()}
    assert document[section]["ros__parameters"] == declared


def test_the_install_page_shows_the_readme_workspace_lines() -> None:
    """The README's workspace block is the one the workspace tests run; the install page must not drift from it."""
    section = (ROOT / "docs" / "install.md").read_text().split("## In your ROS 2 workspace", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()] == workspace_lines()
