"""Job-engine benchmark: a 10-step Legion chain against a bare Celery `chain()`, and the disk spool's rates.

Run it with `.venv/bin/python -m bench.chains`; see bench/README.md for what it measures and how.
"""
