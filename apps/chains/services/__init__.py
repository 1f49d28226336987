"""Chain writes, one module per concern: chains and relationships, triggering, execution, advancing."""
