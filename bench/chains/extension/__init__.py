"""The `bench` extension: ten no-op steps, registered (through an entry point) only while the benchmark runs."""

from apps.runners.definitions import Extension

EXTENSION = Extension(
    name="bench",
    version="1.0.0",
    description="Ten no-op steps for the chains benchmark; never installed outside `python -m bench.chains`.",
    trigger_words=("bench",),
)
