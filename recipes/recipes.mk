# Make fragment of recipes/ (included from the top-level Makefile; paths are
# relative to the repo root).  Targets:
#   kws-data        generate the offline keyword dataset into build/kws/data (~20 s)
#   kws             run the keyword recipe: python -m recipes.kws --out build/kws
#                   (train, prune, int8 export, host + emulated Cortex-M4, Arduino library)
#   kws-quick       the smoke run (--quick) into build/kws-quick (~3 min, 3 QEMU runs)
#   kws-logmel      host shared library of the C front end + a Cortex-M4 compile check
#                   (the native builder keras_events/_native)
#   test-recipes    the tests of tests/recipes (needs gcc + espeak-ng; arm-none-eabi-gcc and
#                   qemu-system-arm for the board test, skipped without them; no build step
#                   first: the C front end, the KE ops and firmware are compiled on demand)
#   test-recipes-slow  also the slow quick-run test with the emulated board (~4 min)
#   demo-lm         the language-model sweep (EGRU vs GRU x weight sparsity 0/0.5/0.8/0.9)
#                   on the generated corpus into build/lm (~30 min on 2 shared cores)
#   demo-aed        the acoustic-event recipe: python -m recipes.aed --out build/aed
#                   (generated ESC-50 layout, 5 folds, int8 export, emulated M4 and M0)
#   clean-recipes
KWS_OUT ?= build/kws
LM_OUT ?= build/lm
LM_ARGS ?=
KWS_ARGS ?=
AED_OUT ?= build/aed
AED_ARGS ?=

.PHONY: kws kws-quick kws-data kws-logmel demo-lm demo-aed test-recipes test-recipes-slow clean-recipes

kws-data: $(KWS_OUT)/data/generator.json ## offline keyword dataset into build/kws/data
$(KWS_OUT)/data/generator.json:
	rm -rf $(KWS_OUT)/data
	$(PYTHON) -m recipes.kws.generate $(KWS_OUT)/data

kws: kws-data ## the keyword recipe on the generated data
	$(PYTHON) -m recipes.kws --data-dir $(KWS_OUT)/data --out $(KWS_OUT) $(KWS_ARGS)

kws-quick: ## the recipe's smoke run (--quick)
	$(PYTHON) -m recipes.kws --quick --out build/kws-quick $(KWS_ARGS)

kws-logmel: ## log-mel front end: host shared library + Cortex-M4 compile check
	$(NATIVE) build logmel logmel-m4

demo-lm: ## language model: EGRU vs GRU under weight sparsity (ppl vs effective MACs)
	nice $(PYTHON) -m recipes.lm --out $(LM_OUT) $(LM_ARGS)

demo-aed: ## acoustic event detection end to end (ESC-50 layout, 5 folds, M4 + M0)
	$(PYTHON) -m recipes.aed --out $(AED_OUT) $(AED_ARGS)

test-recipes: ## tests/recipes
	$(PYTHON) -m pytest -q tests/recipes

test-recipes-slow: ## tests/recipes including the slow board run
	$(PYTHON) -m pytest -q -m "slow or not slow" tests/recipes

clean-recipes: ## remove the recipe outputs
	rm -rf build/recipes build/kws-quick $(KWS_OUT) $(LM_OUT) $(AED_OUT)
