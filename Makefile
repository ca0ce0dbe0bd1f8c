# The two commands of the README: `make demo` and `make test`.
# Both create or reuse .venv/ (tools/setup_env.sh is idempotent and returns
# at once when the environment is up to date).
PY := .venv/bin/python
DATA := data/synthetic_rooms
DEMO_CONFIG ?= configs/had/synthetic_4tasks.py
DEMO_DIR ?= work_dirs/demo

.PHONY: env demo test lint data

env:
	@bash tools/setup_env.sh

$(DATA)/meta.json: | env
	$(PY) tools/data/make_synthetic_rooms.py --out $(DATA) --num 480 --size 96 128 --seed 0

data: env $(DATA)/meta.json

# HAD over 4 tasks on synthetic rooms, then prediction panels, the
# lifelong summary and the inference demo on one test image.
demo: env data
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) $$(cat $(DEMO_DIR)/last_checkpoint) \
		--work-dir $(DEMO_DIR) --show-dir panels
	@$(PY) tools/analysis/lifelong_summary.py $(DEMO_DIR)
	$(PY) demo/image_demo.py $(DATA)/image/test/00000.png $(DEMO_CONFIG) \
		$(DEMO_DIR)/phase_4_saliency.pth --out-dir $(DEMO_DIR)/image_demo \
		--device cpu

test: env
	$(PY) -m pytest -q

lint: env
	$(PY) -m flake8 had_mm tools tests configs projects benchmarks demo
	$(PY) -m isort --check-only --diff had_mm tools tests configs projects benchmarks demo
	$(PY) -m yapf --diff --recursive had_mm tools tests configs projects benchmarks demo
