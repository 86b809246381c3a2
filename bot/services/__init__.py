"""Use cases. Each owns its transaction and talks to Telegram only through the notifier."""
