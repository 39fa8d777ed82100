"""Word-level language modelling in the Penn Treebank layout: EGRU vs GRU under weight
sparsity, showing that weight sparsity and activity sparsity multiply (issue 25).

Modules:
  data       -- PTB / WikiText-2 files, vocabulary, truncated-BPTT batches
  generate   -- the offline corpus (standard-library docstrings) in the PTB layout
  models     -- embedding -> stacked EGRU / GRU / LSTM -> tied softmax; state carried
  distribute -- --strategy none | mirrored (TF) | data-parallel (JAX keras.distribution)
  train      -- fit one model (pruned while it trains), perplexity, events, MACs per token
  report     -- the sweep table, the "multiplies" check, results.json, the PNG plot
Run: ``python -m recipes.lm [--data-dir PTB] [--strategy mirrored]``; see docs/recipes/lm.md.
"""
