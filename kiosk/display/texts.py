"""The student screen's sentences (always Chinese), and the crew screen's door
into the language catalogues (kiosk/lang), which hold every crew text.

Notice codes come from kiosk/station.py.
"""

from __future__ import annotations

from typing import Any

from kiosk.capture.verdict import Reason
from kiosk.lang import CATALOGUES, has, say

# Student screen (read from 1.5 m: short).
ATTRACT = "请扫描学生证或身份证"
CLOSED = "请等待工作人员开始拍摄"
GET_READY = "请站到标记处，看镜头"
HOLD_STILL = "很好，请保持不动"
ACCEPTED = "拍好了！"
DONE = "拍完了，请让出位置给下一位同学"
RETAKE = "再拍一张"
# A refused still: a kind word first, then what to do ("没关系，我们再拍一张：请闭上嘴巴").
RETAKE_KIND = "没关系，我们再拍一张：{hint}"
RETAKE_PLAIN = "没关系，我们再拍一张"
# Shown to the student for a lighting fault only the crew can fix.
LIGHT_WAIT = "请稍候，工作人员正在调整灯光"
# The identified screen: the student checks it is them before framing starts.
IS_IT_YOU = "是你吗？不是请马上告诉工作人员"
STUDENT_NUMBER = "学号 {value}"
ID_NUMBER = "身份证号 {value}"
COUNTDOWN = "{seconds}"
SAVING = "正在保存…"
CAPTURING = "正在拍摄…"
FAILSAFE = "请稍候，系统正在恢复"
SEQ = "拍摄序号 {seq}"

STUDENT_NOTICE: dict[str, str] = {
    "no_session": "请等待工作人员开始拍摄",
    "unknown": "未找到你的信息，请找工作人员",
    "ambiguous": "找到多条记录，请找工作人员",
    "wrong_session": "你不在本场拍摄名单中，请找工作人员",
    "already_photographed": "你已经拍过照片了",
    "crew_decision": "请找工作人员确认照片",
    "save_failed": "保存失败，请找工作人员",
    "camera_problem": "相机正在重新启动，请稍候",
    "failsafe": FAILSAFE,
}


# Lighting faults a student cannot fix by moving: the crew adjusts the lights,
# so the crew screen names the fault and the student is only asked to wait.
CREW_ONLY_REASONS = frozenset({Reason.TOO_DARK, Reason.TOO_BRIGHT})


def crew_text(language: str, key: str, **values: Any) -> str:
    """A crew-screen text from the language catalogues (kiosk/lang), key ``crew.<key>``.

    A screen never crashes over a text: a notice whose detail lacks a value
    shows its template unfilled (tests/test_lang.py keeps the keys complete).
    """
    try:
        return say(language, f"crew.{key}", **values)
    except (KeyError, IndexError, ValueError):
        return CATALOGUES["en" if language == "en" else "zh"].get(f"crew.{key}", key)


def phase_name(language: str, phase: str) -> str:
    return crew_text(language, f"phase.{phase}")


def device_name(language: str, source: str) -> str:
    """The kind of device in the crew's words ("idcard:/dev/ttyUSB0" -> 读卡器)."""
    kind = source.split(":", 1)[0]
    return crew_text(language, f"device.{kind}") if has(language, f"crew.device.{kind}") else kind
