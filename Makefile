# The two commands of the README: `make demo` and `make test`.
# Both create or reuse .venv/ (tools/setup_env.sh is idempotent and returns
# at once when the environment is up to date).
PY := .venv/bin/python
DATA := data/synthetic_rooms
DEMO_CONFIG ?= configs/single_task/aspp_r18-d8_synthetic-rooms-seg.py

.PHONY: env demo test lint data

env:
	@bash tools/setup_env.sh

$(DATA)/meta.json: | env
	$(PY) tools/data/make_synthetic_rooms.py --out $(DATA) --num 480 --size 96 128 --seed 0

data: env $(DATA)/meta.json

demo: env data
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir work_dirs/demo

test: env
	$(PY) -m pytest -q

lint: env
	$(PY) -m flake8 had_mm tools tests configs
	$(PY) -m isort --check-only --diff had_mm tools tests configs
	$(PY) -m yapf --diff --recursive had_mm tools tests configs
