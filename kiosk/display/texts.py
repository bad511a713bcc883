"""Every sentence the screens show, in one place.

The student screen is always Chinese; the crew screen follows
``station.crew_language``. Notice codes come from kiosk/station.py.
"""

from __future__ import annotations

from typing import Any

# Student screen (read from 1.5 m: short).
ATTRACT = "请扫描学生证或身份证"
CLOSED = "请等待工作人员开始拍摄"
GET_READY = "请站到标记处，看镜头"
HOLD_STILL = "很好，请保持不动"
ACCEPTED = "拍摄成功"
RETAKE = "需要重拍"
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

CREW: dict[str, dict[str, str]] = {
    "zh": {
        "title": "拍摄队列",
        "no_session": "未开场：按 {session} 开始拍摄",
        "session": "{school} {category} {department}",
        "department": "院系",
        "done": "已拍",
        "remaining": "未拍",
        "retakes": "待重拍",
        "refused": "未通过",
        "rate": "每小时 {rate10:.0f}（近10分钟） / {rate60:.0f}（近60分钟），目标 {target}",
        "recent": "最近通过",
        "waiting": "排队中",
        "nobody_waiting": "无人排队",
        "devices": "设备",
        "disk": "磁盘剩余 {free}",
        "backlog": "待同步 {count}",
        "keys": "按键：{shutter} 拍摄 · {accept} 确认 · {retake} 重拍 · {skip} 跳过 · {walk_in} 补录 · "
        "{session} 开场/结束 · {crew} 切换屏幕 · {quit} 退出(需密码)",
        "pin": "输入工作人员密码：{stars}",
        "unknown": "未知证件/学号 {value}：按 {walk_in} 补录（进勘误表）或 {skip} 让其离开",
        "ambiguous": "学号匹配 {count} 名学生：请核对身份证",
        "wrong_session": "该生属于 {school_name}({school_code}) {category}，本场为 {session_school} {session_category}",
        "already_photographed": "该生已拍（序号 {seq}）：按 {retake} 重拍或 {skip} 跳过",
        "crew_decision": "已拒绝 {tries} 次：按 {accept} 仍然采用、{retake} 重拍或 {skip} 跳过",
        "save_failed": "保存失败：{error}",
        "camera_problem": "相机问题：{error}",
        "failsafe": "出错，已恢复：{error}",
        "no_session_scan": "请先开场",
        "ok": "正常",
        "lost": "断开",
        "error": "故障",
        "phase": "状态",
    },
    "en": {
        "title": "Queue",
        "no_session": "No session: press {session} to open one",
        "session": "{school} {category} {department}",
        "department": "Department",
        "done": "done",
        "remaining": "left",
        "retakes": "retakes",
        "refused": "refused",
        "rate": "per hour {rate10:.0f} (10 min) / {rate60:.0f} (60 min), target {target}",
        "recent": "Last accepted",
        "waiting": "Waiting",
        "nobody_waiting": "nobody waiting",
        "devices": "Devices",
        "disk": "disk free {free}",
        "backlog": "sync backlog {count}",
        "keys": "Keys: {shutter} shutter · {accept} accept · {retake} retake · {skip} skip · "
        "{walk_in} walk-in · {session} open/close session · {crew} screen · {quit} exit (PIN)",
        "pin": "Crew PIN: {stars}",
        "unknown": "Unknown card/学号 {value}: {walk_in} adds a walk-in (errata list), {skip} sends away",
        "ambiguous": "学号 matches {count} students: check the ID card",
        "wrong_session": "Student belongs to {school_name} ({school_code}) {category}; "
        "session is {session_school} {session_category}",
        "already_photographed": "Already photographed (seq {seq}): {retake} retake, {skip} skip",
        "crew_decision": "Refused {tries} times: {accept} accept anyway, {retake} retake, {skip} skip",
        "save_failed": "Saving failed: {error}",
        "camera_problem": "Camera problem: {error}",
        "failsafe": "Error, recovering: {error}",
        "no_session_scan": "open a session first",
        "ok": "ok",
        "lost": "lost",
        "error": "error",
        "phase": "state",
    },
}


def crew_text(language: str, key: str, **values: Any) -> str:
    table = CREW.get(language, CREW["en"])
    template = table.get(key, key)
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template
