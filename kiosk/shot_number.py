"""拍摄序号: the one rule the kiosk and the office both follow (docs/architecture.md).

A kiosk numbers its delivered shots per school from its kiosk number (handed
out by the office at its first roster pull or sync) × :data:`SEQ_SPAN`. A
kiosk that has no number yet (its roster came on a USB stick and it has not
synced) counts from 1. When it learns its number it continues at number ×
SEQ_SPAN + its count so far + 1, and the office reads an unprefixed number n
from kiosk k as k × SEQ_SPAN + n: both sides then name every shot the same,
and numbers taken before and after the adoption never meet.
"""

from __future__ import annotations

# 100,000 leaves room for the largest school (~23,000) many times over and
# keeps the number a plain integer column in the index sheet.
SEQ_SPAN = 100_000
# The sync protocol's numbers are 32-bit: the last kiosk's last number must fit.
MAX_KIOSK_NUMBER = (2**31 - 1) // SEQ_SPAN - 1


def package_seq(seq: int | None, kiosk_number: int | None) -> int | None:
    """The 拍摄序号 a shot carries in the school's package."""
    if seq is None or kiosk_number is None or seq >= SEQ_SPAN:
        return seq
    return kiosk_number * SEQ_SPAN + seq


def adopted_counter(next_seq: int, kiosk_number: int) -> int:
    """Where a school's counter continues once the kiosk has its number."""
    return next_seq if next_seq > SEQ_SPAN else kiosk_number * SEQ_SPAN + next_seq
