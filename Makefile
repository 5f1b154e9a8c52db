# Copyright 2026 The emotion_perception Authors
# SPDX-License-Identifier: Apache-2.0
# emotion_perception — the two commands are `make demo` and `make test`; both set up first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
# Every node started from here stays on this host, on a DDS domain of its own per run.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export ROS_DOMAIN_ID ?= $(shell echo $$(( $$$$ % 90 + 10 )))
# The ROS 2 distribution to set up and run against: kilted (.venv, install/) or jazzy (.venv-jazzy, install-jazzy/).
export ROS_DISTRO ?= kilted
# Fast DDS 3 (Kilted) reads FASTDDS_DEFAULT_PROFILES_FILE and warns on every node when the old name is set;
# Fast DDS 2.14 (Jazzy) reads only FASTRTPS_DEFAULT_PROFILES_FILE.
export FASTDDS_DEFAULT_PROFILES_FILE := $(ROOT)/config/fastdds_shm.xml
ifeq ($(ROS_DISTRO),jazzy)
export FASTRTPS_DEFAULT_PROFILES_FILE := $(FASTDDS_DEFAULT_PROFILES_FILE)
else
unexport FASTRTPS_DEFAULT_PROFILES_FILE
endif
export PYTHONDONTWRITEBYTECODE := 1
VENV := $(ROOT)/.venv$(if $(filter jazzy,$(ROS_DISTRO)),-jazzy)
RUN := source $(VENV)/activate-ros &&
ARGS ?=

.PHONY: help setup test lint demo docs shell train evaluate benchmark reliability mutation clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## create .venv (ROS_DISTRO=jazzy: .venv-jazzy), install pinned deps, ros2 CLI/launch, build (idempotent)
	@tools/setup.sh

test: setup  ## ruff + the whole pytest suite (what CI runs)
	@tools/setup_platform_env.sh  # .venv-platform: Ubuntu 24.04's numpy 1.26 and OpenCV 4.6 for test_platform_libraries
	@$(RUN) ruff check .
	@$(RUN) python -m pytest test $(ARGS)

lint: setup  ## ruff only
	@$(RUN) ruff check .

demo: setup  ## the whole loop on a real-face clip: reactions, verdicts, annotated video, plot
	@$(RUN) python -m emotion_perception.tools.demo $(ARGS)

docs: setup  ## the documentation site -> out/docs/html (warnings are errors; internal links checked)
	@$(RUN) python -m sphinx -E -W --keep-going -q -b html -d out/docs/doctrees docs out/docs/html
	@$(RUN) python docs/check_links.py out/docs/html

shell: setup  ## a shell with the venv, ROS 2 and this workspace sourced
	@$(RUN) exec bash --rcfile <(echo 'source ~/.bashrc 2>/dev/null; source $(VENV)/activate-ros; PS1="(emotion_perception) $$PS1"') -i

train: setup  ## train the valence model (ARGS="--help" for the options)
	@$(RUN) python -m training.train $(ARGS)

evaluate: setup  ## evaluate a model on a labelled set (ARGS="--help")
	@$(RUN) python -m training.evaluate $(ARGS)

benchmark: setup  ## perception speed figures -> out/benchmark_perception.json
	@$(RUN) python benchmarks/perception_benchmark.py $(ARGS)

reliability: setup  ## full reliability suite incl. 30-min soak -> out/reliability/*.json
	@$(RUN) python -m benchmarks.reliability $(ARGS)

mutation: setup  ## mutation testing of the core rules (mutmut; ARGS="--only rule"): out/mutation/summary.md
	@$(RUN) nice -n 10 python test/mutation_run.py $(ARGS)

clean:  ## remove build outputs (keeps .venv and .venv-jazzy)
	rm -rf build install build-jazzy install-jazzy log out
