"""What a run starts from: config files, a run's own config, the checks made before torch loads."""
