"""One module per workflow stage, each a thin command line: `python -m pipeline.stages.X --help`."""
