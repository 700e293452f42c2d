"""How a run is set up: the config check, a job's JAX runtime, a rule's code inputs."""
