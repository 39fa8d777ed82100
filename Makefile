# keras-events — top-level targets (`make help` lists them all). Fragments add their own:
# custom_ops/custom_ops.mk, micro/micro.mk, recipes/recipes.mk.

PYTHON     ?= python3
PIP        ?= $(PYTHON) -m pip
ROOT       := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PYTEST     ?= $(PYTHON) -m pytest
STAMP_DIR  := $(HOME)/.cache/keras-events/stamps
# The TFLM tree: TFLM_DIR when given (make TFLM_DIR=... or the environment), else the
# default of keras_events/_native/paths.py (../shared/third_party/tflm).
ifneq ($(TFLM_DIR),)
export TFLM_DIR
endif
# The native builder (keras_events/_native), run as a package of its own: only relative
# imports inside, so a call does not import Keras/TensorFlow (~0.2 s when nothing changed).
NATIVE     := env PYTHONPATH=$(ROOT)/keras_events $(PYTHON) -m _native

.PHONY: all help install install-apt install-py test test-all test-jax test-mutants test-sanitize \
        test-sanitize-fuzz \
        demo bench clean
all: install

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-26s %s\n", $$1, $$2}'

# --- installation (idempotent: a second run only checks) -------------------------------
install: install-apt install-py ## install what is missing (apt toolchain, pip packages)

install-apt: ## arm-none-eabi-gcc, qemu-system-arm, espeak-ng when missing
	@missing=""; \
	command -v arm-none-eabi-gcc >/dev/null || missing="$$missing gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib"; \
	command -v qemu-system-arm >/dev/null || missing="$$missing qemu-system-arm"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

install-py: $(STAMP_DIR)/py-$(shell cat setup.cfg setup.py pyproject.toml | cksum | cut -d' ' -f1) ## pip install -e ".[test]"
$(STAMP_DIR)/py-%:
	$(PIP) install -q -e ".[test]"
	@mkdir -p $(STAMP_DIR) && touch $@

# --- fragments (native builds, TFLM, firmware, recipes) ---------------------------------
-include custom_ops/custom_ops.mk
-include micro/micro.mk
-include recipes/recipes.mk
-include docs/docs.mk

# --- tests ------------------------------------------------------------------------------
# Backend-agnostic tests also run under JAX (cells, surrogates, activity).
JAX_TESTS := tests/cells tests/test_surrogates.py tests/test_activity.py tests/sparsity \
             tests/learning tests/recipes/lm/test_lm_jax.py

test: install $(TEST_PREREQS) ## the default run: C unit tests, pytest, the JAX half
	$(NATIVE) test core
	$(PYTEST) -q tests
	$(MAKE) --no-print-directory test-jax

test-jax: install ## the backend-agnostic tests under KERAS_BACKEND=jax
	KERAS_BACKEND=jax $(PYTEST) -q $(JAX_TESTS)

# The slow tests include the fuzz corpus at 18,000 runs and, under ASan/UBSan, 6,000 more.
test-all: install $(TEST_PREREQS) ## also the slow tests (long fuzzing), the sanitizers and the mutants
	$(NATIVE) test core
	$(MAKE) --no-print-directory test-sanitize
	$(PYTEST) -q -m "slow or not slow" tests
	KERAS_BACKEND=jax $(PYTEST) -q -m "slow or not slow" $(JAX_TESTS)
	$(MAKE) --no-print-directory test-mutants

test-mutants: install $(TEST_PREREQS) ## named mutants of the cell, pruning and C core: each must be killed
	$(PYTHON) tests/mutants/run.py

# C kernels, TFLite glue and host TFLM under AddressSanitizer/UBSan (fragments add prerequisites):
# the C unit tests (custom_ops/tests), the host TFLM tests marked `sanitize` (tests/micro) and
# the fuzz corpus (tests/fuzz: 800 mutant runs through the host TFLM paths, the worker under
# ASan/UBSan; `make test-all` runs 10,000). The seed models are exported by TensorFlow in the
# pytest process, which stays uninstrumented.
test-sanitize: test-sanitize-custom-ops test-sanitize-fuzz ## C kernels, glue, host TFLM and the fuzz corpus under ASan/UBSan

test-sanitize-fuzz: install ## the fuzz corpus through host TFLM under ASan/UBSan (800 runs)
	KE_FUZZ_SANITIZE_COUNT=$(or $(FUZZ_SANITIZE_COUNT),80) $(PYTEST) -q -m slow -k sanitized tests/fuzz

bench: install $(TEST_PREREQS) ## benchmarks (ratios from one run)
	$(PYTHON) benchmarks/cell_bench.py

# The main job: keyword spotting end to end (generated data, train, prune, export, host + MCU).
DEMO_ARGS ?=
demo: install $(TEST_PREREQS) ## keyword spotting end to end (train, export, host + MCU)
	$(PYTHON) -m recipes.kws --out build/kws $(DEMO_ARGS)

clean: ## remove build outputs (the TFLM cache in ~/.cache/keras-events stays)
	rm -rf build *.egg-info keras_events/export/_ke_ops.so keras_events/export/_ke_core.so
