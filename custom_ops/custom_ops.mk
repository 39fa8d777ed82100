# Make fragment of custom_ops/ (included from the top-level Makefile; paths are
# relative to the repo root).  Targets:
#   custom-ops                 host TFLite op library keras_events/export/_ke_ops.so
#   custom-ops-core            core-only library keras_events/export/_ke_core.so (ctypes tests)
#   test-core                  C unit tests of custom_ops/core
#   test-sanitize-custom-ops   core + TFLite glue tests under ASan/UBSan
#   clean-custom-ops
TFLM_DIR ?= $(abspath ../shared/third_party/tflm)
PYTHON ?= python3

KE_CORE_SRCS := custom_ops/core/ke_egru.c custom_ops/core/ke_egru_tables.c
KE_CORE_HDRS := custom_ops/core/ke_egru.h custom_ops/core/ke_egru_tables.h
KE_GLUE_SRCS := custom_ops/tflite/ke_egru_op.cc custom_ops/tflite/register.cc
KE_GLUE_HDRS := $(wildcard custom_ops/tflite/*.h custom_ops/glue/*.h)
KE_OPS_SO := keras_events/export/_ke_ops.so
KE_CORE_SO := keras_events/export/_ke_core.so
KE_BUILD := build/custom_ops

# Full TFLite struct layout: the TFLM headers WITHOUT -DTF_LITE_STATIC_MEMORY.
KE_TFL_INC := -I$(TFLM_DIR)/ref -I$(TFLM_DIR)/ref/third_party/flatbuffers/include
# -fno-trapping-math: lets gcc if-convert (vectorize) the float gate loop; values unchanged.
KE_CFLAGS := -std=c99 -O3 -fno-trapping-math -Wall -Wextra -fPIC
KE_CXXFLAGS := -std=c++17 -O3 -Wall -Wextra -fPIC -fvisibility=hidden $(KE_TFL_INC)
# libtensorflow_cc.so.2 of the installed wheel exports tflite::MutableOpResolver::AddCustom.
KE_TF_LIBDIR = $(shell $(PYTHON) -c "import os, importlib.util as u; print(os.path.dirname(u.find_spec('tensorflow').origin))")
# The wheel's version without importing TF (8 s): read from its metadata.
KE_TF_VERSION = $(shell $(PYTHON) -c "from importlib.metadata import version; print(version('tensorflow'))")

.PHONY: custom-ops custom-ops-core test-core test-sanitize-custom-ops clean-custom-ops

custom-ops: $(KE_OPS_SO)
custom-ops-core: $(KE_CORE_SO)

$(KE_CORE_SO): $(KE_CORE_SRCS) $(KE_CORE_HDRS)
	$(CC) $(KE_CFLAGS) -shared -o $@.tmp $(KE_CORE_SRCS) -lm
	mv -f $@.tmp $@

$(KE_OPS_SO): $(KE_CORE_SRCS) $(KE_CORE_HDRS) $(KE_GLUE_SRCS) $(KE_GLUE_HDRS)
	@mkdir -p $(KE_BUILD)
	$(CC) $(KE_CFLAGS) -c custom_ops/core/ke_egru.c -o $(KE_BUILD)/ke_egru.o
	$(CC) $(KE_CFLAGS) -c custom_ops/core/ke_egru_tables.c -o $(KE_BUILD)/ke_egru_tables.o
	$(CXX) $(KE_CXXFLAGS) -DKE_TF_VERSION='"$(KE_TF_VERSION)"' -shared -o $@.tmp $(KE_GLUE_SRCS) \
	  $(KE_BUILD)/ke_egru.o $(KE_BUILD)/ke_egru_tables.o -L$(KE_TF_LIBDIR) -l:libtensorflow_cc.so.2 \
	  -Wl,-rpath,$(KE_TF_LIBDIR) -lm
	mv -f $@.tmp $@  # rename: a process loading the library never sees a half-written file

$(KE_BUILD)/test_core: custom_ops/tests/test_core.c $(KE_CORE_SRCS) $(KE_CORE_HDRS)
	@mkdir -p $(KE_BUILD)
	$(CC) -std=c99 -O2 -Wall -Wextra -o $@ custom_ops/tests/test_core.c $(KE_CORE_SRCS) -lm

test-core: $(KE_BUILD)/test_core
	$(KE_BUILD)/test_core

KE_SAN := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

test-sanitize-custom-ops: $(KE_CORE_SRCS) $(KE_CORE_HDRS) $(KE_GLUE_SRCS) custom_ops/tests/test_glue.cc custom_ops/tests/test_core.c
	@mkdir -p $(KE_BUILD)
	$(CC) -std=c99 -Wall -Wextra $(KE_SAN) -o $(KE_BUILD)/test_core_san \
	  custom_ops/tests/test_core.c $(KE_CORE_SRCS) -lm
	$(KE_BUILD)/test_core_san
	$(CC) -std=c99 -Wall -Wextra $(KE_SAN) -c custom_ops/core/ke_egru.c -o $(KE_BUILD)/ke_egru_san.o
	$(CC) -std=c99 -Wall -Wextra $(KE_SAN) -c custom_ops/core/ke_egru_tables.c \
	  -o $(KE_BUILD)/ke_egru_tables_san.o
	$(CXX) -std=c++17 -Wall -Wextra $(KE_SAN) $(KE_TFL_INC) -o $(KE_BUILD)/test_glue_san \
	  custom_ops/tests/test_glue.cc custom_ops/tflite/ke_egru_op.cc $(KE_BUILD)/ke_egru_san.o \
	  $(KE_BUILD)/ke_egru_tables_san.o
	$(KE_BUILD)/test_glue_san

clean-custom-ops:
	rm -rf $(KE_BUILD) $(KE_OPS_SO) $(KE_CORE_SO)
