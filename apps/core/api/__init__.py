"""Plumbing every app's REST API shares: errors, pagination and the /api/v1 root."""
