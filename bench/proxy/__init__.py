"""The proxy benchmark: a fast fake backend reached directly, through Legion's proxy and through LiteLLM's."""
