"""Input and output: file layouts, checked reading and atomic writing, provenance, paths."""
