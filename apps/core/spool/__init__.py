"""The disk spool and the one publisher that falls back to it when the broker does not confirm in time."""
