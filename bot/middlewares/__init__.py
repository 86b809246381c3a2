"""Dispatcher middlewares."""
