"""Inference: the model, and one module per method, each a batched fit (see batching)."""
