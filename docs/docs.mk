# Documentation site: MkDocs + Material + mkdocstrings (mkdocs.yml at the repository root).
# Included from the top-level Makefile; also usable alone: make -f docs/docs.mk docs
#   make docs          build the site into build/site/ with --strict (a warning fails)
#   make docs-serve    serve it with live reload on http://127.0.0.1:8000
#   make docs-test     run every ```python block of docs/ (tests/docs)
#   make docs-check    build, then screenshot the home page and a guide (headless Chromium)
#                      into build/docs-shots/: look at them before landing a docs change
PYTHON      ?= python3
DOCS_SITE   := build/site
DOCS_SHOTS  := build/docs-shots
DOCS_WINDOW ?= 1280,1600
# The API pages only need the package's objects: no TensorFlow import, no log noise.
DOCS_ENV    := KERAS_BACKEND=numpy TF_CPP_MIN_LOG_LEVEL=3 NO_MKDOCS_2_WARNING=1

.PHONY: docs docs-serve docs-test docs-check docs-install docs-chromium

# The `docs` extra of setup.cfg, installed without reinstalling the package itself.
docs-install:
	@$(PYTHON) -c "import mkdocs, material, mkdocstrings_handlers.python, ruff" 2>/dev/null || { \
	  reqs=$$($(PYTHON) -c "import configparser; c = configparser.ConfigParser(); \
	    c.read('setup.cfg'); print(' '.join(repr(r) for r in c['options.extras_require']['docs'].split()))"); \
	  echo "installing the docs extra: $$reqs"; \
	  eval $(PYTHON) -m pip install -q $$reqs; }

docs: docs-install
	$(DOCS_ENV) $(PYTHON) -m mkdocs build --strict --clean

docs-serve: docs-install
	$(DOCS_ENV) $(PYTHON) -m mkdocs serve --strict

docs-test:
	$(PYTHON) -m pytest -q tests/docs

docs-chromium:
	@command -v chromium >/dev/null || { \
	  SUDO=$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Chromium runs as root here, hence --no-sandbox; file:// pages need no server.
DOCS_CHROMIUM := chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--force-device-scale-factor=1 --window-size=$(DOCS_WINDOW) --virtual-time-budget=3000
docs-check: docs docs-chromium
	@mkdir -p $(DOCS_SHOTS)
	$(DOCS_CHROMIUM) --screenshot=$(DOCS_SHOTS)/home.png "file://$(abspath $(DOCS_SITE))/index.html" 2>/dev/null
	$(DOCS_CHROMIUM) --screenshot=$(DOCS_SHOTS)/quickstart.png "file://$(abspath $(DOCS_SITE))/guides/quickstart/index.html" 2>/dev/null
	@ls -l $(DOCS_SHOTS)/home.png $(DOCS_SHOTS)/quickstart.png
