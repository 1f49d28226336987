"""The LLM proxy's lineup as data: provider instances, their models and aliases edited in the admin and the API."""
