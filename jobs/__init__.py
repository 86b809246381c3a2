"""Scheduled work: the table of recurring jobs (`schedule`), the deadline sweeper, and the
welcome pacer."""
