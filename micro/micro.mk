# micro/micro.mk — TFLite Micro on emulated Cortex-M4 (QEMU mps2-an386) and on the host.
# Included from the top-level Makefile; paths are relative to the repo root.
#
#   make micro-toolchain      install arm-none-eabi-gcc / qemu-system-arm when missing (apt)
#   make micro                TFLM libraries (cached in ~/.cache/keras-events/tflm/<key>/),
#                             QEMU plugin, host libke_tflm.so   (first run ~10-20 min, then instant)
#   make test-micro           pytest tests/micro (builds what is missing first)
#   make test-sanitize-micro  host TFLM + kernels under ASan/UBSan, pytest on the host tests
#   make micro-bench          benchmarks/micro_bench.py (table + JSON + PNG)
#   make micro-run MODEL=m.tflite INPUT=x.npy [BOARD=host]
TFLM_DIR ?= $(abspath ../shared/third_party/tflm)
PYTHON ?= python3
MICRO_ENV = TFLM_DIR=$(TFLM_DIR) PYTHONPATH=$(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
MICRO_APT = gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm

# `make test` / `make test-sanitize` of the top-level Makefile pick these up.
TEST_PREREQS += micro
test-sanitize: test-sanitize-micro

.PHONY: micro micro-toolchain micro-libs micro-plugin micro-host-lib test-micro \
        test-sanitize-micro micro-bench micro-run

micro-toolchain:
	@if ! command -v arm-none-eabi-gcc >/dev/null || ! command -v qemu-system-arm >/dev/null || \
	    [ ! -e /usr/lib/arm-none-eabi/newlib/thumb/v7e-m+fp/hard/libstdc++_nano.a ]; then \
	  echo "installing $(MICRO_APT)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y $(MICRO_APT); \
	fi

micro-libs: micro-toolchain
	$(MICRO_ENV) nice $(PYTHON) -m keras_events.micro.tflm_build -j2 m4 host

micro-plugin:
	$(MICRO_ENV) $(PYTHON) -c "from keras_events.micro import qemu; print(qemu.build_plugin())"

micro-host-lib: micro-libs
	$(MICRO_ENV) nice $(PYTHON) -c "from keras_events.micro import host_lib; print(host_lib.build_host_library())"

micro: micro-libs micro-plugin micro-host-lib

test-micro: micro
	$(MICRO_ENV) $(PYTHON) -m pytest -q tests/micro

test-sanitize-micro: micro-toolchain
	$(MICRO_ENV) nice $(PYTHON) -m keras_events.micro.tflm_build -j2 host-asan
	$(MICRO_ENV) $(PYTHON) -c "from keras_events.micro import host_lib; print(host_lib.build_host_library(sanitize=True))"
	$(MICRO_ENV) KE_MICRO_SANITIZE=1 ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LD_PRELOAD=$$(gcc -print-file-name=libasan.so):$$(gcc -print-file-name=libubsan.so) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider --confcutdir=tests/micro -m sanitize tests/micro

micro-bench: micro
	$(MICRO_ENV) $(PYTHON) benchmarks/micro_bench.py

micro-run: micro
	$(MICRO_ENV) $(PYTHON) -m keras_events.micro run $(MODEL) --input $(INPUT) --board $(or $(BOARD),mps2-an386)
