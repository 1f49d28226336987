"""Inbound webhooks: a signed HTTP request starts a chain or a function; secrets encrypted at rest."""
