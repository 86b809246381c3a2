"""Hearth: a Telegram bot that does the routine work of a community manager."""
