# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""The README stays a start page: at most 250 lines, every relative link and picture leads somewhere (the file, and
the heading for a ``#anchor``), the workspace block the workspace tests run is there, and every launch argument of
perception.launch.py is named in it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from helpers import ROOT
from readme_lines import workspace_lines

README = ROOT / "README.md"
MAX_LINES = 250
#: ``[text](target)`` and ``![alt](target)``, the target without an optional "title".
MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""(?:href|src)=["']([^"']+)["']""")


def _without_code(text: str) -> str:
    """The text outside fenced code blocks and inline code spans (a link there is an example, not a link)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def heading_anchors(markdown: str) -> set[str]:
    """The ``#anchor`` of each heading, as GitHub makes them: lower case, punctuation dropped, spaces as hyphens, a
    repeated one numbered."""
    anchors: set[str] = set()
    for line in _without_code(markdown).splitlines():
        if heading := re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line):
            slug = re.sub(r"[^\w\- ]", "", heading[1].lower()).replace(" ", "-")
            anchor, n = slug, 0
            while anchor in anchors:
                n += 1
                anchor = f"{slug}-{n}"
            anchors.add(anchor)
    return anchors


def broken_links(page: Path) -> list[str]:
    """Every relative link of a markdown page whose file, or heading for its ``#anchor``, does not exist."""
    text = _without_code(page.read_text())
    broken = []
    for target in MARKDOWN_LINK.findall(text) + HTML_LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
            continue  # http:, https:, mailto:: not checked here (no network)
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked.read_text()):
            broken.append(f"{target} (no heading #{anchor})")
    return broken


def test_the_readme_is_short() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_LINES, f"README.md has {len(lines)} lines; the rest belongs in docs/"


def test_no_relative_link_of_the_readme_is_broken() -> None:
    assert broken_links(README) == []
    assert "docs/index.md" in README.read_text()  # the way into the documentation


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A heading, with punctuation!\n")
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](other.md#a-heading-with-punctuation) [up](#title) ![pic](missing.png)\n"
                    "[bad](other.md#nowhere) [web](https://example.org) `[code](not/a/link.md)`\n"
                    '<img src="gone.svg">\n```bash\n[x](also/not/a/link.md)\n```\n')
    assert broken_links(page) == ["missing.png (no such file)", "other.md#nowhere (no heading #nowhere)",
                                  "gone.svg (no such file)"]


def test_the_workspace_block_the_workspace_tests_run_is_there() -> None:
    lines = workspace_lines()
    assert any(line.startswith("rosdep install") for line in lines)
    assert any(line.startswith("colcon build") for line in lines)
    assert any(line.startswith("ros2 launch emotion_perception perception.launch.py") for line in lines)


def test_every_launch_argument_is_named() -> None:
    launch = ROOT / "launch" / "perception.launch.py"
    arguments = {ast.literal_eval(call.args[0]) for call in ast.walk(ast.parse(launch.read_text()))
                 if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "DeclareLaunchArgument"}
    text = README.read_text()
    assert arguments and not {a for a in arguments if f"`{a}" not in text}, "launch arguments missing from README"
