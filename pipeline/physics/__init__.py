"""Physics: the Voigt profile, the forward model of the line, and the synthetic data."""
