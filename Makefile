# emotion_perception — the two commands are `make demo` and `make test`; both set up first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath .)
# Every node started from here stays on this host, on a DDS domain of its own per run.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export ROS_DOMAIN_ID ?= $(shell echo $$(( $$$$ % 90 + 10 )))
export FASTDDS_DEFAULT_PROFILES_FILE := $(ROOT)/config/fastdds_shm.xml
export PYTHONDONTWRITEBYTECODE := 1
RUN := source $(ROOT)/.venv/activate-ros &&
ARGS ?=

.PHONY: help setup test lint demo shell train evaluate benchmark reliability clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup:  ## create .venv, install pinned deps, build emotion_msgs (idempotent)
	@tools/setup.sh

test: setup  ## ruff + the whole pytest suite (what CI runs)
	@$(RUN) ruff check .
	@$(RUN) python -m pytest test $(ARGS)

lint: setup  ## ruff only
	@$(RUN) ruff check .

demo: setup  ## the whole loop on a real-face clip: reactions, verdicts, annotated video, plot
	@$(RUN) python -m emotion_perception.tools.demo $(ARGS)

shell: setup  ## a shell with the venv, ROS 2 and this workspace sourced
	@$(RUN) exec bash --rcfile <(echo 'source ~/.bashrc 2>/dev/null; source $(ROOT)/.venv/activate-ros; PS1="(emotion_perception) $$PS1"') -i

train: setup  ## train the valence model (ARGS="--help" for the options)
	@$(RUN) python -m training.train $(ARGS)

evaluate: setup  ## evaluate a model on a labelled set (ARGS="--help")
	@$(RUN) python -m training.evaluate $(ARGS)

benchmark: setup  ## perception speed figures -> out/benchmark_perception.json
	@$(RUN) python benchmarks/perception_benchmark.py $(ARGS)

reliability: setup  ## full reliability suite incl. 30-min soak -> out/reliability/*.json
	@$(RUN) python -m benchmarks.reliability $(ARGS)

clean:  ## remove build outputs (keeps .venv)
	rm -rf build install log out
