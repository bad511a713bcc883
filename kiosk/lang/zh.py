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
    "reason.shoulders": "双肩不平",
    "reason.occluded": "眉毛、眼睛或嘴巴被遮挡",
    "reason.glare": "眼镜或脸上有反光",
    "reason.eyes_closed": "闭眼或眯眼",
    "reason.mouth_open": "嘴巴张开",
    "reason.expression": "表情不自然或视线偏离",
    "reason.too_dark": "光线太暗",
    "reason.too_bright": "光线太亮",
    "reason.uneven_light": "脸部光线不均（阴阳脸）",
    "reason.blurry": "照片不清晰",
    "reason.background": "背景不符合要求",
    "reason.clothing": "衣服颜色与背景太接近",
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
    "roster.note.category": "第 {row} 行：类型“{category}”不是 {known} 之一",
    "roster.note.shared_number": (
        "学号 {number} 在第 {rows} 行属于同一专业、不同类型的学生；扫码时按当前场次的类型匹配"
    ),
    "roster.note.numeric_number": (
        "第 {rows} 行的学号存成了数字：学号若以 0 开头，开头的 0 已丢失；扫码对不上时把这一列设为“文本”"
    ),
    "roster.note.merged": "{columns}：第 {first}-{last} 行是合并单元格，每行都按合并的值导入",
    "roster.error.not_workbook": "{file} 不是可读的 Excel 工作簿（{detail}）：用 Excel 或 WPS 打开，另存为 .xlsx",
    "roster.error.damaged": "{file} 读不出来（{detail}）：文件可能已损坏或不完整，请向学校重新要一份",
    "roster.error.empty_sheets": "{file} 没有数据：每个工作表都是空的",
    "roster.error.no_header_sheet": "{file}：没有哪个工作表有名单的表头行（{columns}）",
    "roster.error.columns": "名单缺少这些列：{missing}；现有的列：{found}。请用通知中学校数据库表的表头",
    "roster.error.save_failed": "名单无法保存（{detail}），没有做任何改动。如果磁盘已满，请清理 SD 卡空间（旧的导出、已清除的场次）后重新导入",
    "roster.error.too_big": "{file} 有 {mb} MB；名单最多几 MB，这不是学校的名单（或文件已损坏）：请检查文件并重新导出",
    "roster.error.unreadable": "无法读取 {path}：{detail}",
    "roster.error.empty_file": "{path} 是空文件（0 字节）；请从 Excel 重新导出名单",
    "roster.error.password": "{file} 设置了密码；请用 Excel 或 WPS 输入密码打开，取消密码（文件 → 信息 → 保护工作簿 / 文档加密），保存后重新导入",
    "roster.error.unpacks_too_big": "{file} 解压后有 {mb} MB；名单解压后只有几十 MB，其中某个单元格或工作表过大：请与学校核对文件",
    "roster.error.encoding": "{file}：无法识别文字编码；请另存为 UTF-8 CSV",
    "roster.error.csv_long_cell": "{file}：第 {line} 行有超过 {limit} 个字符的单元格（或引号未闭合）；名单单元格不会这么长：请检查学校文件的这一行并重新保存",
    "roster.error.long_cell": "{file}：第 {row} 行有 {chars} 个字符的单元格；名单单元格不超过 {limit} 个字符：请检查学校文件的这一行并重新保存",
    "roster.error.no_data": "{file} 没有数据",
    "roster.pull.refused": "办公室拒绝了请求：{detail}",
    "roster.pull.offline": "连不上办公室：{detail}；本机继续使用现有名单，请稍后再试",
    "roster.pull.unstorable": "办公室发来的名单无法保存（{detail}），没有做任何改动",
    "roster.pull.done": "名单 {school}（版本 {version}）：{imported} 名学生（新增 {new}，更新 {updated}，未变 {unchanged}）；本机编号 {kiosk}，下一个拍摄序号 {seq}；重拍要求 {retakes} 个  [{seconds:.2f} 秒]",
    "roster.error.no_header": "{file}：前 20 行里没有含“身份证号”和“姓名”的表头行；第一行是：{first}",
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
    "export.no_school": "没有院校代码 {school} 的学生或场次；本机有：{known}",
    "export.no_school_none": "没有院校代码 {school} 的学生或场次；本机还没有任何名单（先导入名单）",
    "export.no_session": "没有第 {session} 场（本机的场次是 1 到 {last}）",
    "export.no_sessions": "没有第 {session} 场：本机还没有任何场次",
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
    "sync.session_match": "场次 {session}：本机 {local} 张，服务器 {remote} 张：一致",
    "sync.session_mismatch": "场次 {session}：本机 {local} 张，服务器 {remote} 张：不一致：{reason}",
    "sync.mismatch.count": "服务器有本场 {remote} 条记录，本机有 {local} 条",
    "sync.mismatch.digest": "条数相同，但记录或照片不同",
    "sync.mismatch.unproven": "服务器没有证明它存有这些照片（请升级服务器）",
    "sync.mismatch.photos": "服务器缺少或损坏了 {missing} 条记录的照片（在服务器上运行 `central verify` 可列出）",
    # -- 工作人员屏幕 (kiosk/display/crew.py)
    "crew.title": "拍摄队列",
    "crew.no_session": "未开场：按 {session} 开始拍摄",
    "crew.session": "{school} {category} {department}",
    "crew.department": "院系",
    "crew.done": "已拍",
    "crew.remaining": "未拍",
    "crew.retakes": "待重拍",
    "crew.refused": "未通过",
    "crew.rate": "每小时 {rate10:.0f}/{rate60:.0f}（近10/60分钟），目标 {target}",
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
    "crew.absent": "缺席",
    "crew.percent": "完成",
    "crew.total": "合计",
    "crew.page": "第 {page}/{pages} 页",
    "crew.time_left": "剩余约 {hours} 小时 {minutes} 分",
    "crew.time_left_minutes": "剩余约 {minutes} 分钟",
    "crew.time_left_unknown": "剩余时间：尚无速度",
    "crew.all_done": "全部拍完",
    "crew.refusal": "未通过：{name} — {reasons}",
    "crew.refusal_error": "未通过：{name} — 无法裁切（{error}）",
    "crew.light_fault": "灯光：{reason}（请调整灯光，学生无法自己解决）",
    "crew.all_departments": "全部院系",
    "crew.all_categories": "全部类型",
    "crew.chooser_title": "选择拍摄场次",
    "crew.chooser_school": "第 1 步：选择学校（或输入院校代码）",
    "crew.chooser_category": "第 2 步：选择类型 · {school}",
    "crew.chooser_department": "第 3 步：选择院系 · {school} {category}",
    "crew.chooser_line": "{label}  （{count} 人）",
    "crew.chooser_typed": "已输入院校代码：{typed}",
    "crew.chooser_code": (
        "名单中没有院校代码 {school} 的学生。以采集码模式拍摄（学生扫学信网图像采集码）？"
    ),
    "crew.chooser_code_keys": "{accept} 确认采集码模式 · {quit} 返回",
    "crew.chooser_keys": "↑↓ 选择 · {accept} 确认 · {quit} 返回 · 数字键 输入院校代码 · 也可直接点选",
    "crew.chooser.no_roster": "数据库里没有名单：先导入（kiosk roster import），或输入院校代码用采集码模式",
    "crew.chooser.empty": "这一项没有学生，不能开场",
    "crew.new_pin_title": "首次启动：出厂密码 0000 必须改掉，才能开始拍摄",
    "crew.new_pin_first": "请输入新的工作人员密码（4-8 位数字），按确认",
    "crew.new_pin_again": "请再输一遍新密码，按确认",
    "crew.new_pin_keys": "数字键 输入 · {accept} 确认 · {quit} 重输",
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
    # -- 自检 (kiosk doctor)：每条处理办法对应它的原因
    "doctor.fix": "处理：{fix}",
    "doctor.total": "{checks} 项检查，{failed} 项失败，{warned} 项警告",
    "doctor.call_support": "请联系技术支持",
    "doctor.camera_no_open": "相机打不开：{error}",
    "doctor.camera_fix_library": (
        "缺少相机软件：在 Pi 上运行 install.sh（从 apt 安装 python3-picamera2，虚拟环境需带 "
        '--system-site-packages）；不在 Pi 上请在配置中设 camera.backend = "sim"'
    ),
    "doctor.camera_fix_cable": (
        "检查排线两端是否插紧（蓝面朝向见 hardware/wiring.md），然后重启；"
        "`rpicam-hello --list-cameras` 应列出相机"
    ),
    "doctor.camera_fix_busy": "停止 kiosk.service 后再试（相机同时只能被一个程序使用）",
    "doctor.camera_fix_other": "重启后再试；仍不行时运行 `rpicam-hello --list-cameras` 并联系技术支持",
    "doctor.camera_frozen": "相机已找到，但 {seconds:g} 秒内只有 {frames} 帧画面",
    "doctor.camera_simulated": "模拟相机（播放示例照片），不是真实相机",
    "doctor.camera_fix_sim": '真实拍摄前在配置中设 camera.backend = "picamera2"',
    "doctor.camera_ok": "相机有画面",
    "doctor.framing_simulated": "模拟相机：不需要计算取景",
    "doctor.framing_unknown": "无法识别相机型号（{sensor}）：使用配置里的尺寸和取景",
    "doctor.framing_fix_unknown": (
        '用 kiosk geometry 算出该相机的 still_size 和 frame_fill，写入配置并设 camera.framing = "config"'
    ),
    "doctor.framing_detail": (
        "{camera}：静态照片 {width}×{height}，frame_fill {fill:g}，距离 {distance:g} 米，"
        "裁切区有 {rows} 行"
    ),
    "doctor.framing_upscaled": "，少于照片的 {photo_rows} 行：照片会被放大、变模糊",
    "doctor.framing_fix_auto": (
        '设 camera.framing = "auto"，或在配置中写 still_size = [{width}, {height}]、'
        "frame_fill = {fill:g}，学生站在 {distance:g} 米处"
    ),
    "doctor.framing_fix_camera": "这台相机在任何距离都不够清晰：换 Camera Module 3（标准镜头）或 HQ 相机 + 16 mm 镜头",
    "doctor.scanner_fix": (
        "重新插拔扫描枪/读卡器；`ls -l /dev/kiosk-*` 应列出它们（hardware/70-kiosk.rules），"
        "并核对配置 [scanner] devices"
    ),
    "doctor.scanner_none": "没有配置扫描设备，模拟设备也未开启",
    "doctor.scanner_simulated": "这是模拟设备，不是真实的扫描枪/读卡器：{devices}",
    "doctor.scanner_fix_simulated": (
        '在配置 [scanner] 中列出真实设备（devices = ["hid:/dev/kiosk-scanner", '
        '"idcard:/dev/kiosk-idcard"]）并设 simulate = false'
    ),
    "doctor.scanner_ok": "读卡设备均有应答：{devices}",
    "doctor.central_fix": "检查网络，以及 /etc/kiosk/kiosk.toml 中 [sync] 的 server_url 和 token（或 token_file）",
    "doctor.central_no_url": "未设置 sync.server_url",
    "doctor.central_token_file": "令牌文件 {path} 读不出：{error}",
    "doctor.central_error": "中心服务器 {url}：{error}",
    "doctor.central_wrong_kiosk": "令牌属于 {who}，本机是 {station}",
    "doctor.central_fix_token": "在服务器上执行 central token add {station}，把新令牌写入配置",
    "doctor.central_ok": "中心服务器接受本机令牌（{who}）",
    "doctor.display_other": "显示：{message}（非 KMS/DRM）",
    "doctor.display_none": "未检测到已连接的屏幕（{message}）",
    "doctor.display_fix_plug": "接上屏幕（Pi 4/5 的 HDMI 0 口）后重启",
    "doctor.display_no_permission": "无权打开 {device}",
    "doctor.display_fix_groups": "把 kiosk 用户加入 video 和 render 组",
    "doctor.font_fix": "安装字体：apt install fonts-wqy-zenhei",
    "doctor.font_unreadable": "字体无法读取：{error}",
    "doctor.font_lacks": "{font} 缺少字形：{characters}",
    "doctor.font_ok": "中文字体：{font}",
    "doctor.disk_detail": (
        "{where} 剩余 {free}；一天 {shots} 张约需 {needed}（每张约 {each}，{basis}）"
    ),
    "doctor.disk_measured": "按已存的 {count} 张照片估算",
    "doctor.disk_configured": "按配置 deployment.shot_bytes",
    "doctor.disk_format": "尚无照片，按照片上限 {kb:g} KB 估算",
    "doctor.disk_fix": "先同步（kiosk sync --once）并导出已完成的院系，再清理；或换更大的存储卡",
    "doctor.disk_not_partition": "{where} 不在数据分区上（在只读根分区的内存层上，重启后照片会丢失）",
    "doctor.disk_fix_partition": "停止 kiosk.service；`findmnt {where}` 应显示 LABEL=kioskdata 分区",
    "doctor.clock_bad_setting": "deployment.clock_not_before 的值“{value}”不是日期",
    "doctor.clock_fix_setting": "写成 YYYY-MM-DD",
    "doctor.clock_fix": (
        "连上网络等待校时（timedatectl 显示 System clock synchronized: yes），"
        "或手动设置：sudo date -s '…'"
    ),
    "doctor.clock_not_set": "时钟未设置：{now} 早于 {date}",
    "doctor.clock_went_back": "时钟倒退：{now} 早于最近的记录 {latest}",
    "doctor.clock_unconfirmed": "{now}，但未经 NTP 校时：照片会带上这个未经确认的时间",
    "doctor.clock_ok": "{now}（已由 NTP 校时）",
    "doctor.database_none": "没有数据库 {path}",
    "doctor.database_fix_import": "导入学校名单：kiosk roster import 名单.xlsx（并确认数据分区已挂载）",
    "doctor.database_damaged": "数据库损坏：{problems}",
    "doctor.database_fix_damaged": "停止 kiosk.service，备份数据文件夹，联系技术支持；不要删除照片",
    "doctor.database_ok": "数据库完好：{path}",
    "doctor.pin_ok": "工作人员密码已改过出厂值",
    "doctor.pin_default": "工作人员密码仍是出厂的 0000：大厅里任何人都能退出拍摄程序",
    "doctor.pin_default_desk": "工作人员密码仍是出厂的 0000（本机用模拟设备，真机上必须修改）",
    "doctor.pin_fix": "运行 kiosk pin 设置新密码（4-8 位数字），或在拍摄屏幕首次启动时设置",
    "doctor.pedal_none": "未配置脚踏开关",
    "doctor.pedal_fix_busy": "kiosk.service 运行时占用该引脚，先停止它再检查；接线见 hardware/wiring.md",
    "doctor.pedal_held": "GPIO{pin} 一直处于按下状态",
    "doctor.pedal_fix_held": "松开脚踏，或检查是否短路",
    "doctor.pedal_ok": "脚踏开关 GPIO{pin}",
    # -- 工作人员密码 (kiosk pin)
    "pin.prompt": "新的工作人员密码（4-8 位数字）",
    "pin.again": "再输一遍",
    "pin.mismatch": "两次输入不一致，密码未改",
    "pin.digits": "密码须为 4-8 位数字",
    "pin.too_simple": "密码太简单（不能是 0000 或同一个数字重复）",
    "pin.saved": "新密码已保存在 {path}，下次启动拍摄程序时生效",
    # -- 拍摄 (kiosk run)
    "run.no_roster": (
        "名单里没有院校代码 {school} 的学生：先导入该校名单（kiosk roster import），"
        "或确认用采集码模式拍摄（加 --collection-codes）"
    ),
    "run.collection_codes": "院校代码 {school} 没有名单：以采集码模式拍摄，学生扫学信网图像采集码",
    "run.empty_scope": "名单里 {school} 没有“{category} {department}”的学生：检查 --category 和 --department（或在拍摄屏幕上选择）",
    "run.no_display": "没有可用的屏幕：{problem}",
    # -- 通用
    "cli.error": "错误：{text}",
}
