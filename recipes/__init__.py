"""End-to-end recipes for keras-events (keyword spotting, ...).

Each recipe is a package runnable with ``python -m recipes.<name>``.
"""
