"""Scheduled work: each module registers its jobs with `register(scheduler, deps)`."""
