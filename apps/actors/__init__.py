"""Actors: what starts runs on its own (timers, polls, queues, loops) or routes inputs; one module per kind."""
