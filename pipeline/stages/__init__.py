"""One module per workflow stage; each is a thin command-line wrapper (`python -m pipeline.stages.X --help`)."""
