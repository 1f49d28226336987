"""The LLM proxy's catalog as data: provider instances, their models and aliases edited in the admin and the API."""
