# micro/micro.mk — TFLite Micro on emulated Cortex-M4 (QEMU mps2-an386), Cortex-M0 (QEMU
# microbit) and on the host.
# Included from the top-level Makefile; builds are thin calls to keras_events/_native
# (TFLM libraries cached in ~/.cache/keras-events/tflm/<key>/: first run ~10-20 min).
MICRO_APT = gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm

# `make test` / `make test-sanitize` of the top-level Makefile pick these up.
TEST_PREREQS += micro
test-sanitize: test-sanitize-micro

.PHONY: micro micro-toolchain test-micro test-sanitize-micro micro-bench micro-run m0-bench

micro-toolchain: ## install arm-none-eabi-gcc / qemu-system-arm when missing (apt)
	@if ! command -v arm-none-eabi-gcc >/dev/null || ! command -v qemu-system-arm >/dev/null || \
	    [ ! -e /usr/lib/arm-none-eabi/newlib/thumb/v7e-m+fp/hard/libstdc++_nano.a ]; then \
	  echo "installing $(MICRO_APT)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y $(MICRO_APT); \
	fi

micro: micro-toolchain ## TFLM libraries (M4, M0, host), QEMU plugin, host libke_tflm.so
	nice $(NATIVE) build -j2 tflm-m4 tflm-m0 tflm-host plugin host-lib

test-micro: micro ## pytest tests/micro
	$(PYTEST) -q tests/micro

# KERAS_BACKEND=numpy: the tests import keras_events.micro (and so Keras), which must not
# load TensorFlow's own libraries under ASan.
test-sanitize-micro: micro-toolchain ## host TFLM + kernels under ASan/UBSan, pytest -m sanitize
	nice $(NATIVE) build -j2 tflm-host-asan host-lib-asan
	KERAS_BACKEND=numpy KE_MICRO_SANITIZE=1 ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LD_PRELOAD=$$(gcc -print-file-name=libasan.so):$$(gcc -print-file-name=libubsan.so) \
	  $(PYTHON) -m pytest -q -p no:cacheprovider --confcutdir=tests/micro -m sanitize tests/micro

micro-bench: micro ## benchmarks/micro_bench.py (table + JSON + PNG)
	$(PYTHON) benchmarks/micro_bench.py

micro-run: micro ## run MODEL=m.tflite INPUT=x.npy [BOARD=host] on the emulated board
	$(PYTHON) -m keras_events.micro run $(MODEL) --input $(INPUT) --board $(or $(BOARD),mps2-an386)

m0-bench: micro-toolchain ## benchmarks/m0_bench.py: eGRU Q15 vs soft-float GRU vs int8 KE_EGRU on the Cortex-M0, and the eGRU .tflite through TFLM there
	$(PYTHON) benchmarks/m0_bench.py
