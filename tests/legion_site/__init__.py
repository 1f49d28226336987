"""Tests of the project package: settings, CLI entry, dev services."""
