"""Presentation: pure functions from domain values to (text, keyboard).

The only place that calls `t()`, `escape()` and packs callback data (`bot.views.callbacks`).
Services hand a view's output to the notifier or the outbox; handlers send what views return.
"""
