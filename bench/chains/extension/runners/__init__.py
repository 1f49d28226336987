"""Runners of the bench extension."""
