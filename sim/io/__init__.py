"""Reading and writing files: YAML, the observations CSV, run directories."""
