"""中文：工作人员和学校老师读到的每一句话（kiosk/lang/__init__.py 说明规则）。"""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # -- 照片未通过的原因（retakes.xlsx、工作人员屏幕）：原因本身，不是给学生的提示
    "reason.no_face": "未检测到人脸",
    "reason.multiple_faces": "画面中不止一张脸",
    "reason.face_too_small": "脸部太小（离镜头太远）",
    "reason.face_too_large": "脸部太大（离镜头太近）",
    "reason.off_center": "脸部不在画面中间",
    "reason.head_pose": "头部偏转或歪斜",
    "reason.occluded": "眉毛、眼睛或嘴巴被遮挡",
    "reason.eyes_closed": "闭眼或眯眼",
    "reason.mouth_open": "嘴巴张开",
    "reason.expression": "表情不自然或视线偏离",
    "reason.too_dark": "光线太暗",
    "reason.too_bright": "光线太亮",
    "reason.blurry": "照片不清晰",
    "reason.background": "背景不符合要求",
    "reason.flagged": "工作人员标记复核",
    # -- 名单导入 (kiosk roster import)
    "roster.summary": (
        "{file}：共 {rows} 行，导入 {imported} 行（新增 {new}，更新 {updated}，未变 {unchanged}），"
        "拒绝 {rejected} 行  [{seconds:.2f} 秒]"
    ),
    "roster.warning": "  提醒：{text}",
    "roster.problem": "  第 {row} 行，{column}“{value}”：{message} [{code}]",
    "roster.more": "  …… 另有 {count} 个问题{hint}",
    "roster.more_in_file": "（全部见 {path}）",
    "roster.more_hint": "（加 --report 文件名 可看全部）",
    "roster.fix_and_reimport": "请在学校的名单表里改正被拒绝的行，然后重新导入；已导入的行会原地更新。",
    "roster.progress": "正在检查",
    "roster.error": "名单无法导入（未做任何改动）：{text}",
    "problem.missing_value": "{column} 为空：请填写",
    "problem.school_code_format": "院校代码必须正好是 5 位数字（教育部院校代码）",
    "problem.sex_invalid": "性别只能填 男 或 女",
    "problem.sex_mismatch": "性别写的是 {given}，但身份证号第 17 位表示 {from_id}：请核对这两格",
    "problem.id_stored_as_number": (
        "身份证号被存成了数字，Excel 已丢掉最后几位：把这一列设为“文本”格式后重新填写或重新导出"
    ),
    "problem.id_scientific": "身份证号是科学计数法，最后几位已丢失：把这一列设为“文本”格式后重新导出",
    "problem.duplicate_id_number": "第 {others} 行也是这个身份证号，其中必有一行有误：改正后重新导入",
    "problem.duplicate_student_number": "第 {others} 行也是这个学号，其中必有一行有误：改正后重新导入",
    "problem.id_missing": "身份证号为空",
    "problem.id_legacy_15_digit": "这是 1999 年以前的 15 位身份证号：请向学生要 18 位号码",
    "problem.id_bad_length": "身份证号应为 18 位",
    "problem.id_bad_characters": "身份证号应为 17 位数字加一位数字或 X",
    "problem.id_bad_address_code": "前几位不是行政区划代码",
    "problem.id_bad_birth_date": "第 7-14 位的出生日期不是过去的真实日期",
    "problem.id_bad_check_digit": "最后一位校验码不符：有一位数字输错了",
    # -- 查找学生 (kiosk roster find)
    "find.student": "{name}  {sex}  学号 {student_number}  身份证号 {id_number}  {school}  {department} {major}  {category}",
    "find.none": "没有找到与“{query}”相符的学生",
    "find.several": "有 {count} 名学生符合“{query}”，请用学号或身份证号核对：",
    # -- 导出 (kiosk export)
    "export.summary": (
        "{path}：照片 {photos} 张，缺拍 {missing} 人，待重拍 {retakes} 人，勘误 {corrections} 条，"
        "校对表 {pages} 页，{megabytes:.1f} MB  [{seconds:.1f} 秒]"
    ),
    "export.warning": "  提醒：{text}",
    "export.nothing": "没有可导出的内容：{db} 里没有学生；请先导入名单",
    "export.both_scopes": "--session 和 --school 只能给一个",
    "export.failed": "{folder} 导出失败：{text}",
    # -- 同步 (kiosk sync)
    "sync.summary": (
        "已同步 {synced} 张，用时 {seconds:.1f} 秒（照片 {photos} 张，发送 {megabytes:.1f} MB）；"
        "剩余 {remaining} 张，隔离 {quarantined} 张"
    ),
    "sync.last_error": "；最后的错误：{error}",
    "sync.quarantined": (
        "有 {count} 张被中心服务器拒收（已隔离）：按显示的原因处理后，运行 `kiosk sync --requeue`"
    ),
    "sync.requeued": "已重新排队 {count} 张隔离的照片",
    "sync.progress": "已同步 {synced} 张，剩余 {remaining} 张，已发送 {megabytes:.1f} MB，每秒 {rate:.0f} 张",
    "sync.session_match": "第 {session} 场：本机 {local} 张，服务器 {remote} 张：一致",
    "sync.session_mismatch": "第 {session} 场：本机 {local} 张，服务器 {remote} 张：不一致",
    # -- 工作人员屏幕 (kiosk/display/crew.py)
    "crew.title": "拍摄队列",
    "crew.no_session": "未开场：按 {session} 开始拍摄",
    "crew.session": "{school} {category} {department}",
    "crew.department": "院系",
    "crew.done": "已拍",
    "crew.remaining": "未拍",
    "crew.retakes": "待重拍",
    "crew.refused": "未通过",
    "crew.rate": "每小时 {rate10:.0f}（近10分钟） / {rate60:.0f}（近60分钟），目标 {target}",
    "crew.recent": "最近通过",
    "crew.waiting": "排队中",
    "crew.nobody_waiting": "无人排队",
    "crew.devices": "设备",
    "crew.disk": "磁盘剩余 {free}",
    "crew.backlog": "待同步 {count}",
    "crew.keys": "按键：{shutter} 拍摄 · {accept} 确认 · {retake} 重拍 · {skip} 跳过 · {walk_in} 补录 · {session} 开场/结束 · {crew} 切换屏幕 · {quit} 退出(需密码)",
    "crew.pin": "输入工作人员密码：{stars}",
    "crew.unknown": "未知证件/学号 {value}：按 {walk_in} 补录（进勘误表）或 {skip} 让其离开",
    "crew.ambiguous": "学号匹配 {count} 名学生：请核对身份证",
    "crew.wrong_session": "该生属于 {school_name}({school_code}) {category}，本场为 {session_school} {session_category}",
    "crew.already_photographed": "该生已拍（序号 {seq}）：按 {retake} 重拍或 {skip} 跳过",
    "crew.crew_decision": "已拒绝 {tries} 次：按 {accept} 仍然采用、{retake} 重拍或 {skip} 跳过",
    "crew.save_failed": "保存失败：{error}",
    "crew.camera_problem": "相机问题：{error}",
    "crew.failsafe": "出错，已恢复：{error}",
    "crew.no_session_scan": "请先开场",
    "crew.ok": "正常",
    "crew.lost": "断开",
    "crew.error": "故障",
    "crew.phase": "状态",
    "crew.phase.closed": "未开场",
    "crew.phase.idle": "等待扫码",
    "crew.phase.identified": "核对身份",
    "crew.phase.framing": "取景",
    "crew.phase.countdown": "倒计时",
    "crew.phase.capturing": "拍摄中",
    "crew.phase.review": "未通过，准备重拍",
    "crew.phase.crew_decision": "等待工作人员决定",
    "crew.phase.saving": "保存中",
    "crew.phase.saved": "已保存",
    "crew.phase.unknown": "名单中无此人",
    "crew.phase.wrong_session": "不属于本场",
    "crew.phase.already_done": "已拍过",
    "crew.phase.failsafe": "恢复中",
    "crew.device.camera": "相机",
    "crew.device.hid": "扫描枪",
    "crew.device.serial": "扫描枪",
    "crew.device.idcard": "读卡器",
    "crew.device.sim": "模拟扫描",
    "crew.device.pedal": "脚踏",
    # -- 通用
    "cli.error": "错误：{text}",
}
