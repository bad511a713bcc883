"""The on-screen digit pad: the buttons a crew without a keyboard types digits with.

Why one module: the session chooser (a 院校代码), the first start's new crew
PIN and the PIN asked to leave all type digits on the same pad, so its
buttons and what a button does to the digits typed are decided once, here,
without I/O. Where the pad is drawn is kiosk/display/pad.py; what accept
and back mean is each asker's (kiosk/chooser.py ``press``, the station's PIN
steps in kiosk/station.py).
"""

from __future__ import annotations

DELETE, ACCEPT, BACK = "delete", "accept", "back"
# Three a row: 1-9, then delete, 0, accept (a phone's layout).
PAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", DELETE, "0", ACCEPT)
WITH_BACK = (*PAD, BACK)  # the pad and back: every step that types digits


def is_digit(button: str) -> bool:
    return len(button) == 1 and button.isdigit()


def typed_after(typed: str, button: str, limit: int) -> str:
    """The digits after a digit or delete button (``limit``: the most kept)."""
    if button == DELETE:
        return typed[:-1]
    if is_digit(button):
        return (typed + button)[:limit]
    return typed


def dots(typed: str) -> str:
    """Typed PIN digits as the screen shows them: never in clear."""
    return "●" * len(typed)
