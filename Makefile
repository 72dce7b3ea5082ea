# Two entry points for a fresh machine (Python 3.9+; 3.11 tested):
#   make demo  -- install, generate the synthetic data, train the tiny model
#                 on CPU, test it and print the metrics
#   make test  -- install the test needs and run the test suite
#   make test-fast -- the suite without the tests marked slow (setup.cfg)
PYTHON_SYS ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CFG := configs/sgsrf/sgsrf_tiny_synthetic.py
DEMO_DIR := work_dirs/demo

.PHONY: demo test test-fast lint install clean-demo
LINT_PATHS := sgsrf_mmseg tools tests configs setup.py

$(PY):
	$(PYTHON_SYS) -m venv $(VENV)

# mmcv-lite is installed only where no mmcv is present (a compiled mmcv works too).
$(VENV)/.installed: $(PY) setup.py requirements/*.txt
	$(PY) -c "import mmcv" 2>/dev/null || $(PY) -m pip install -q -r requirements/mmcv.txt
	$(PY) -m pip install -q -e ".[tests,optional]"
	touch $@

# The web demo and its browser test (Chromium comes from the system: .ci/run).
$(VENV)/.installed-demo: $(VENV)/.installed requirements/demo.txt requirements/demo_tests.txt
	$(PY) -m pip install -q -e ".[demo]" -r requirements/demo_tests.txt
	touch $@

install: $(VENV)/.installed

$(VENV)/.installed-lint: $(PY) requirements/lint.txt
	$(PY) -m pip install -q -r requirements/lint.txt
	touch $@

# OpenMMLab's checks, with the settings of setup.cfg (.pre-commit-config.yaml
# runs the same on each commit).
lint: $(VENV)/.installed-lint
	$(PY) -m flake8 .
	$(PY) -m isort --check-only --diff $(LINT_PATHS)
	$(PY) -m yapf --diff --recursive $(LINT_PATHS)

# -rs: the summary says which tests were skipped and why.
test: install $(VENV)/.installed-demo
	$(PY) -m pytest tests -q -p no:cacheprovider -rs

# Leaves out the tools run as subprocesses, kill and resume, DDP, the
# browser and the full-size models (the `slow` marker).
test-fast: install $(VENV)/.installed-demo
	$(PY) -m pytest tests -q -p no:cacheprovider -rs -m "not slow"

demo: install
	$(PY) tools/train.py $(DEMO_CFG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CFG) $$(cat $(DEMO_DIR)/best_checkpoint) \
		--work-dir $(DEMO_DIR) --show-dir $(DEMO_DIR)/vis --show-interval 25 \
		--results $(DEMO_DIR)/test_results.json --overwrite
	@echo "Visualizations (image | ground truth | prediction): $(DEMO_DIR)/vis/vis_data/vis_image/"

clean-demo:
	rm -rf $(DEMO_DIR)
