"""Onboarding: verification of newcomers (verification), their welcomes (welcomes), and join
requests once asked (requests, which billing builds on). The names below are its interface."""

from bot.services.onboarding.requests import REQUEST, Accept, AcceptResult, JoinRequests
from bot.services.onboarding.verification import Confirm, JoinRequestGate, Onboarding
from bot.services.onboarding.welcomes import VERIFY, HoldRelease, Welcomes

__all__ = [
    "REQUEST",
    "VERIFY",
    "Accept",
    "AcceptResult",
    "Confirm",
    "HoldRelease",
    "JoinRequestGate",
    "JoinRequests",
    "Onboarding",
    "Welcomes",
]
