# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
"""Sphinx configuration of the emotion_perception documentation (``make docs``; Sphinx + MyST, see docs/README.md).

Built with warnings as errors. Reference tables come from the code and the interface files (``_ext/emotion_docs.py``),
the API reference from the docstrings (autodoc, which imports the modules: build in the sourced environment).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS.parent), str(DOCS / "_ext")]

project = "emotion_perception"
author = "The emotion_perception Authors"
copyright = "2026, The emotion_perception Authors"
release = "0.1.0"

extensions = ["myst_parser", "sphinx.ext.autodoc", "emotion_docs"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "README.md", "check_links.py"]
myst_enable_extensions = ["colon_fence", "deflist"]
smartquotes = False  # quotes and apostrophes as written: commands and values stay copyable
myst_heading_anchors = 3  # [text](page.md#a-heading) links are checked like any cross-reference
suppress_warnings: list[str] = []

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_class_signature = "separated"

html_theme = "alabaster"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_title = "emotion_perception"
html_theme_options = {"description": "Does the person welcome what the robot just did? Facial valence for ROS 2.",
                      "fixed_sidebar": True, "page_width": "1280px", "sidebar_width": "220px"}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
html_show_sourcelink = False
