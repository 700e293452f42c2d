"""Analysis: posterior summaries, comparisons, and the studies across datasets."""
