# keras-events — top-level targets. Helpers' fragments add their own build rules.
#   make demo       the main job end to end (installs what is missing)
#   make test       install what is missing, then the default test run (< 30 min on 2 cores)
#   make test-all   also the slow tests
#   make bench      benchmarks (ratios from one run)

PYTHON     ?= python3
PIP        ?= $(PYTHON) -m pip
ROOT       := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
TFLM_DIR   ?= $(abspath $(ROOT)/../shared/third_party/tflm)
PYTEST     ?= $(PYTHON) -m pytest
APT_PKGS   := gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm espeak-ng
STAMP_DIR  := $(HOME)/.cache/keras-events/stamps
export TFLM_DIR

.PHONY: all install install-apt install-py test test-all test-jax test-sanitize demo bench clean
all: install

# --- installation (idempotent: a second run only checks) -------------------------------
install: install-apt install-py

install-apt:
	@missing=""; \
	command -v arm-none-eabi-gcc >/dev/null || missing="$$missing gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib"; \
	command -v qemu-system-arm >/dev/null || missing="$$missing qemu-system-arm"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

install-py: $(STAMP_DIR)/py-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
$(STAMP_DIR)/py-%:
	$(PIP) install -q -e ".[test]"
	@mkdir -p $(STAMP_DIR) && touch $@

# --- helpers' fragments (build rules for C kernels, TFLM, firmware, recipes) -------------
-include custom_ops/custom_ops.mk
-include micro/micro.mk
-include recipes/recipes.mk

# --- tests ------------------------------------------------------------------------------
# Backend-agnostic tests also run under JAX (cells, surrogates, activity).
JAX_TESTS := tests/cells tests/test_surrogates.py tests/test_activity.py tests/sparsity

test: install $(TEST_PREREQS)
	$(PYTEST) -q tests
	KERAS_BACKEND=jax $(PYTEST) -q $(JAX_TESTS)

test-all: install $(TEST_PREREQS)
	$(PYTEST) -q -m "slow or not slow" tests
	KERAS_BACKEND=jax $(PYTEST) -q -m "slow or not slow" $(JAX_TESTS)

# C kernels, TFLite glue and host TFLM under AddressSanitizer/UBSan (fragments add prerequisites).
test-sanitize: test-sanitize-custom-ops

bench: install $(TEST_PREREQS)
	$(PYTHON) benchmarks/cell_bench.py

# The main job: keyword spotting end to end (generated data, train, prune, export, host + MCU).
DEMO_ARGS ?=
demo: install $(TEST_PREREQS)
	$(PYTHON) -m recipes.kws --out build/kws $(DEMO_ARGS)

clean:
	rm -rf build *.egg-info
