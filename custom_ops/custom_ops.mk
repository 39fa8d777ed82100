# Make fragment of custom_ops/ (included from the top-level Makefile): thin calls to the
# native builder keras_events/_native (content-cached: a second run builds nothing).
.PHONY: custom-ops custom-ops-core test-core test-sanitize-custom-ops clean-custom-ops

custom-ops: ## host TFLite op library keras_events/export/_ke_ops.so (every manifest op)
	$(NATIVE) build ops
custom-ops-core: ## core-only library keras_events/export/_ke_core.so (ctypes reference)
	$(NATIVE) build core
test-core: ## C unit tests of custom_ops/core (custom_ops/tests/test_core.c)
	$(NATIVE) test core
test-sanitize-custom-ops: ## core + host TFLite glue C tests under ASan/UBSan
	$(NATIVE) test sanitize
clean-custom-ops: ## remove the op libraries and C test binaries
	rm -rf build/native keras_events/export/_ke_ops.so keras_events/export/_ke_core.so
