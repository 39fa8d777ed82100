# Make fragment of recipes/ (included from the top-level Makefile; paths are
# relative to the repo root).  Targets:
#   kws-data        generate the offline keyword dataset into build/kws/data (~20 s)
#   kws             run the keyword recipe: python -m recipes.kws --out build/kws
#                   (train, prune, int8 export, host + emulated Cortex-M4, Arduino library)
#   kws-quick       the smoke run (--quick) into build/kws-quick (~3 min, 3 QEMU runs)
#   kws-logmel      host shared library of the C front end + a Cortex-M4 compile check
#   test-recipes    the tests of tests/recipes (needs gcc + espeak-ng; arm-none-eabi-gcc and
#                   qemu-system-arm for the board test, skipped without them; no build step
#                   first: the C front end, the KE ops and firmware are compiled on demand)
#   test-recipes-slow  also the slow quick-run test with the emulated board (~4 min)
#   clean-recipes
PYTHON ?= python3
KWS_OUT ?= build/kws
KWS_ARGS ?=
KE_LOGMEL_SRC := custom_ops/core/ke_logmel.c
KE_LOGMEL_HDR := custom_ops/core/ke_logmel.h
KE_LOGMEL_M4_FLAGS := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
	-std=c99 -Wall -Wextra -Werror -O2

.PHONY: kws kws-quick kws-data kws-logmel test-recipes test-recipes-slow clean-recipes

kws-data: $(KWS_OUT)/data/generator.json
$(KWS_OUT)/data/generator.json:
	rm -rf $(KWS_OUT)/data
	$(PYTHON) -m recipes.kws.generate $(KWS_OUT)/data

kws: kws-data
	$(PYTHON) -m recipes.kws --data-dir $(KWS_OUT)/data --out $(KWS_OUT) $(KWS_ARGS)

kws-quick:
	$(PYTHON) -m recipes.kws --quick --out build/kws-quick $(KWS_ARGS)

kws-logmel: build/recipes/libke_logmel.so build/recipes/ke_logmel_m4.o
build/recipes/libke_logmel.so: $(KE_LOGMEL_SRC) $(KE_LOGMEL_HDR)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O2 -Wall -Wextra -Werror -shared -fPIC $< -o $@ -lm
build/recipes/ke_logmel_m4.o: $(KE_LOGMEL_SRC) $(KE_LOGMEL_HDR)
	@mkdir -p $(dir $@)
	arm-none-eabi-gcc $(KE_LOGMEL_M4_FLAGS) -c $< -o $@

test-recipes:
	$(PYTHON) -m pytest -q tests/recipes

test-recipes-slow:
	$(PYTHON) -m pytest -q -m "slow or not slow" tests/recipes

clean-recipes:
	rm -rf build/recipes build/kws-quick $(KWS_OUT)
