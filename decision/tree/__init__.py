"""Decision trees: a YAML file format, vectorized rollback, utilities, EVPI, diagrams."""
