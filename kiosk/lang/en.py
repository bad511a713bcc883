"""English: every line a crew member or a registrar reads (rules in kiosk/lang/__init__.py)."""

from __future__ import annotations

from kiosk.capture.verdict import CREW_EN

TEXTS: dict[str, str] = {
    # -- why a photo was refused (retakes.xlsx, crew screen): the crew's wording
    **{f"reason.{reason.value}": text for reason, text in CREW_EN.items()},
    "reason.flagged": "marked by the crew for a check",
    # -- kiosk roster import
    "roster.summary": (
        "{file}: {rows} rows, {imported} imported ({new} new, {updated} updated, "
        "{unchanged} unchanged), {rejected} rejected  [{seconds:.2f} s]"
    ),
    "roster.warning": "  warning: {text}",
    "roster.problem": "  row {row}, {column} '{value}': {message} [{code}]",
    "roster.more": "  … and {count} more problems{hint}",
    "roster.more_in_file": " (all in {path})",
    "roster.more_hint": " (use --report FILE for all)",
    "roster.fix_and_reimport": (
        "Fix the rejected rows in the school's sheet and import it again; "
        "imported rows are updated in place."
    ),
    "roster.progress": "checking rows",
    "roster.error": "the roster cannot be imported (nothing changed): {text}",
    "roster.note.category": "row {row}: 类型 '{category}' is not one of {known}",
    "roster.note.shared_number": (
        "学号 {number} is used in rows {rows} by students of different 类型 in the same 专业; "
        "scans of it are matched by the open session's 类型"
    ),
    "roster.note.numeric_number": (
        "学号 is stored as a number in rows {rows}: leading zeros, if the school's numbers "
        "have any, are lost; format the column as text if scans do not match"
    ),
    "roster.note.merged": "{columns}: merged cells in rows {first}-{last}; used the merged value for every row",
    "roster.error.not_workbook": "{file} is not a readable Excel workbook ({detail}); open it in Excel or WPS and save it again as .xlsx",
    "roster.error.damaged": "{file} could not be read ({detail}); the file may be damaged or truncated: copy it again from the school",
    "roster.error.empty_sheets": "{file} has no data: every sheet is empty",
    "roster.error.no_header_sheet": "{file}: no sheet has the roster header row ({columns})",
    "roster.error.columns": "the roster lacks the column(s) {missing}; found: {found}. Use the headers of the notice's school-database sheet.",
    "roster.error.save_failed": "could not save the roster ({detail}); nothing changed. If the disk is full, free space on the SD card (old exports, purged sessions) and import again",
    "roster.error.too_big": "{file} is {mb} MB; a roster is a few MB at most, so this is not the school's roster (or it is damaged): check the file and export it again",
    "roster.error.unreadable": "cannot read {path}: {detail}",
    "roster.error.empty_file": "{path} is empty (0 bytes); export the roster from Excel again",
    "roster.error.password": "{file} is protected by a password; open it in Excel or WPS with the password, remove it (文件 → 信息 → 保护工作簿 / 文档加密), save, and import again",
    "roster.error.unpacks_too_big": "{file} unpacks to {mb} MB; a roster unpacks to a few tens of MB, so a cell or sheet in it is far too large: check the file with the school",
    "roster.error.encoding": "{file}: unknown text encoding; save it as UTF-8 CSV",
    "roster.error.csv_long_cell": "{file}: line {line} has a cell of more than {limit} characters (or an unclosed quote); no roster cell is that long: check that line in the school's file and save it again",
    "roster.error.long_cell": "{file}: row {row} has a cell of {chars} characters; no roster cell is longer than {limit}: check that row in the school's file and save it again",
    "roster.error.no_data": "{file} has no data",
    "roster.pull.refused": "the office refused: {detail}",
    "roster.pull.offline": "offline: {detail}; the kiosk keeps its current roster, try again later",
    "roster.pull.unstorable": "the office's roster cannot be stored ({detail}); nothing changed",
    "roster.pull.done": "roster {school} (version {version}): {imported} students ({new} new, {updated} updated, {unchanged} unchanged); kiosk number {kiosk}, next 拍摄序号 {seq}; {retakes} retake requests  [{seconds:.2f} s]",
    "roster.pull.expected": "office schedule: {school} expects {expected} students",
    "roster.pull.expected_unknown": "the office schedule gives no expected headcount for {school}",
    "roster.pull.collection_codes": "the office has no roster for {school}: shoot it in collection-code mode (type the 院校代码 on the session chooser and confirm)",
    "roster.error.no_header": "{file}: no header row with 身份证号 and 姓名 in the first 20 rows; the first row reads: {first}",
    "problem.missing_value": "{column} is empty; fill it in",
    "problem.school_code_format": "院校代码 must be exactly 5 digits (the Ministry's school code)",
    "problem.sex_invalid": "性别 must be 男 or 女",
    "problem.sex_mismatch": (
        "性别 says {given} but the ID number's 17th digit says {from_id}; check both cells"
    ),
    "problem.id_stored_as_number": (
        "身份证号 is stored as a number, so Excel has lost its last digits; "
        "format the column as text and type or re-export the numbers"
    ),
    "problem.id_scientific": (
        "身份证号 is in scientific notation, so its last digits are lost; "
        "format the column as text and re-export"
    ),
    "problem.duplicate_id_number": (
        "the same ID number is also in row {others}; one of them is wrong: "
        "correct it and import again"
    ),
    "problem.duplicate_student_number": (
        "the same 学号 is also in row {others}; one of them is wrong: correct it and import again"
    ),
    "problem.id_missing": "the ID number is empty",
    "problem.id_legacy_15_digit": (
        "a 15-digit ID number from before 1999; ask the student for the 18-digit number"
    ),
    "problem.id_bad_length": "an ID number has 18 characters",
    "problem.id_bad_characters": "an ID number has 17 digits and a final digit or X",
    "problem.id_bad_address_code": "the first digits are not a region code",
    "problem.id_bad_birth_date": "the birth date in digits 7-14 is not a real date in the past",
    "problem.id_bad_check_digit": "the check character (last) does not match: a digit was mistyped",
    # -- kiosk roster find
    "find.student": (
        "{name}  {sex}  学号 {student_number}  身份证号 {id_number}  {school}  "
        "{department} {major}  {category}"
    ),
    "find.none": "no student matches '{query}'",
    "find.several": "{count} students match '{query}'; tell them apart by 学号 or ID number:",
    # -- kiosk export
    "export.summary": (
        "{path}: {photos} photos, {missing} missing, {retakes} to retake, "
        "{corrections} corrections, {pages} proof pages, {megabytes:.1f} MB  [{seconds:.1f} s]"
    ),
    "export.warning": "  warning: {text}",
    "export.nothing": "nothing to export: {db} has no students; import a roster first",
    "export.both_scopes": "give --session or --school, not both",
    "export.no_school": "no students or sessions for 院校代码 {school}; known: {known}",
    "export.no_school_none": "no students or sessions for 院校代码 {school}; known: none (import a roster first)",
    "export.no_session": "no session {session} (sessions here are 1..{last})",
    "export.no_sessions": "no session {session} (this data folder has no sessions)",
    "export.failed": "{folder}: export failed: {text}",
    # -- kiosk sync
    "sync.photos_missing": "the receiver lacks {count} photos",
    "sync.url_not_http": "sync.server_url {url!r} is not an http(s) URL",
    "sync.url_plain_http": "sync.server_url {url!r} is plain http: photos and ID numbers would travel unencrypted; use https (or set sync.allow_http = true for a loopback test)",
    "sync.no_receiver": "no receiver: set sync.server_url in the config or pass --server URL",
    "sync.bad_station_id": "station.station_id {station_id!r} cannot be a kiosk id (letters, digits, . _ - only)",
    "sync.token_file": "sync.token_file {path}: {error}",
    "sync.no_token": "no sync token: set sync.token or sync.token_file, or pass --token",
    "sync.ca_file": "sync.ca_file {path}: cannot load it ({error})",
    "sync.not_a_receiver": "the server answered, but not as a kiosk receiver",
    "sync.protocol_mismatch": "the receiver speaks protocol {theirs}, this kiosk {ours}: update one of them",
    "sync.malformed": "{call}: malformed answer (a proxy in the way, or not our receiver?)",
    "sync.bad_school_code": "{school!r}: a 院校代码 is 5 digits",
    "sync.timed_out": "{call}: timed out ({kind})",
    "sync.unreachable": "{call}: cannot connect ({kind}: {error})",
    "sync.not_json": "{call}: HTTP {status} without a JSON answer (a captive portal or proxy in the way?)",
    "sync.http": "{call}: the receiver answered HTTP {status} {answer}",
    "sync.token_refused": "{detail}: the receiver does not accept this kiosk's token (check sync.token and station.station_id, or issue a new token)",
    "sync.local_damage": "{count} local photos damaged",
    "sync.wrong_base_url": "{detail}: is sync.server_url the receiver's base URL (without /v1)?",
    "sync.token_other_kiosk": "the token belongs to kiosk {who!r} but this kiosk is {me!r} (station.station_id); use this kiosk's own token",
    "sync.asks_foreign_photos": "the receiver asks for photos that are not in this batch",
    "sync.still_lacks_photos": "the receiver still lacks photos it was just sent",
    "sync.receipt_foreign": "the receipt names records that are not in this batch",
    "sync.log.error": "error: {detail}",
    "sync.log.gave_up": "offline: {detail}; giving up for now after {tries} tries",
    "sync.log.retry": "offline: {detail}; next try in {delay:.1f} s",
    "sync.log.refused": "refused: batch {batch}: {detail}; {count} shots quarantined",
    "sync.log.damaged": "error: batch {batch}: {detail}; run `kiosk verify`",
    "sync.log.batch": "batch {batch}: {synced} synced; {left} left",
    "sync.log.batch_quarantined": "batch {batch}: {synced} synced, {quarantined} quarantined; {left} left",
    "sync.lock_held": "another `kiosk sync` or `kiosk purge` is running on this data folder (pid {pid}); {what} not started. Wait for it to finish (it holds {path})",
    "sync.lock.this_sync": "this sync",
    "sync.lock.the_purge": "the purge",
    "sync.reconcile_failed": "reconcile: {detail}",
    "purge.no_session": "no session {session} on this kiosk (see `kiosk sync --reconcile`)",
    "purge.unsynced": "{count} shots of this session are not synced yet; run `kiosk sync --once` first",
    "purge.mismatch": "{reason}; nothing deleted; run `kiosk sync --reconcile` (it sends missing photos again) and ask the receiver's operator",
    "purge.refused": "purge refused: {detail}",
    "purge.failed": "purge: {detail}",
    "purge.confirm": "Delete the local photos of session {session}?",
    "purge.done": "session {session}: {count} photos deleted; the receiver holds them",
    "sync.summary": (
        "synced {synced} shots in {seconds:.1f} s ({photos} photos, {megabytes:.1f} MB sent); "
        "{remaining} left, {quarantined} quarantined"
    ),
    "sync.last_error": "; last error: {error}",
    "sync.quarantined": (
        "{count} shots are quarantined (refused by the receiver); "
        "fix the cause shown, then run `kiosk sync --requeue`"
    ),
    "sync.requeued": "requeued {count} quarantined shots",
    "sync.progress": "synced {synced}, {remaining} left, {megabytes:.1f} MB sent, {rate:.0f} shots/s",
    "sync.session_match": "session {session}: kiosk {local}, receiver {remote}: match",
    "sync.session_mismatch": "session {session}: kiosk {local}, receiver {remote}: MISMATCH: {reason}",
    "sync.mismatch.count": "the receiver holds {remote} records of this session, the kiosk {local}",
    "sync.mismatch.digest": "same count, different records or photos",
    "sync.mismatch.unproven": "the receiver does not prove it holds the photos (update the receiver)",
    "sync.mismatch.photos": "the receiver lacks or holds damaged photos of {missing} records (`central verify` on the receiver lists them)",
    # -- the crew screen (kiosk/display/crew.py)
    "crew.title": "Queue",
    "crew.no_session": "No session: press {session} or tap the screen to open one",
    "crew.session": "{school} {category} {department}",
    "crew.department": "Department",
    "crew.done": "done",
    "crew.remaining": "left",
    "crew.retakes": "retakes",
    "crew.refused": "refused",
    "crew.rate": "per hour {rate10:.0f}/{rate60:.0f} (10/60 min), target {target}",
    "crew.recent": "Last accepted",
    "crew.waiting": "Waiting",
    "crew.nobody_waiting": "nobody waiting",
    "crew.devices": "Devices",
    "crew.disk": "disk free {free}",
    "crew.backlog": "sync backlog {count}",
    "crew.keys": "Keys: {shutter} shutter · {accept} accept · {retake} retake · {skip} skip · {walk_in} walk-in · {session} open/close session · {crew} screen · {quit} exit (PIN)",
    "crew.pin": "Type the crew PIN to leave",
    "crew.unknown": "Unknown card/学号 {value}: {walk_in} adds a walk-in (errata list), {skip} sends away",
    "crew.ambiguous": "学号 matches {count} students: check the ID card",
    "crew.wrong_session": "Student belongs to {school_name} ({school_code}) {category}; session is {session_school} {session_category}",
    "crew.already_photographed": "Already photographed (seq {seq}): {retake} retake, {skip} skip",
    "crew.crew_decision": "Refused {tries} times: {accept} accept anyway, {retake} retake, {skip} skip",
    "crew.save_failed": "Saving failed: {error}",
    "crew.camera_problem": "Camera problem: {error}",
    "crew.failsafe": "Error, recovering: {error}",
    "crew.no_session_scan": "open a session first",
    "crew.ok": "ok",
    "crew.lost": "lost",
    "crew.error": "error",
    "crew.phase": "state",
    "crew.absent": "absent",
    "crew.percent": "done %",
    "crew.total": "Total",
    "crew.page": "page {page}/{pages}",
    "crew.time_left": "about {hours} h {minutes} min left",
    "crew.time_left_minutes": "about {minutes} min left",
    "crew.time_left_unknown": "time left: no rate yet",
    "crew.time_left_no_headcount": "time left: expected headcount unknown",
    "crew.total_codes": "Collection-code mode · {expected} expected by the office schedule",
    "crew.total_codes_unknown": "Collection-code mode · expected headcount unknown (kiosk roster pull fetches it)",
    "crew.all_done": "everyone done",
    "crew.refusal": "Refused: {name} — {reasons}",
    "crew.refusal_error": "Refused: {name} — no crop possible ({error})",
    "crew.light_fault": "Lighting: {reason} (adjust the lights; the student cannot fix it)",
    "crew.all_departments": "all departments",
    "crew.all_categories": "all types",
    "crew.chooser_title": "Choose the session",
    "crew.chooser_school": "Step 1: the school (or type its 院校代码)",
    "crew.chooser_category": "Step 2: the 类型 · {school}",
    "crew.chooser_department": "Step 3: the 院系 · {school} {category}",
    "crew.chooser_line": "{label}  ({count} students)",
    "crew.chooser_typed": "院校代码 typed: {typed}",
    "crew.chooser_code": (
        "No roster student has 院校代码 {school}. Shoot in collection-code mode "
        "(students scan their 学信网 图像采集码)?"
    ),
    "crew.chooser_expected": "Office schedule: {expected} students expected",
    "crew.chooser_expected_unknown": "Headcount unknown (not pulled from the office, or not on its schedule)",
    "crew.chooser_line_codes": "{label} · codes, {expected} expected",
    "crew.chooser_line_codes_unknown": "{label} · codes, no count",
    "crew.pad_delete": "Del",
    "crew.pad_accept": "OK",
    "crew.pad_back": "Back",
    "crew.act_accept": "OK",
    "crew.act_retake": "Retake",
    "crew.act_skip": "Skip",
    "crew.act_shutter": "Shoot",
    "crew.act_walk_in": "Walk-in",
    "crew.act_session": "End",
    "crew.act_quit": "Exit",
    "crew.act_crew": "Student",
    "crew.act_session_again": "End: tap again",
    "crew.end_asked": "Tap End again to close the session (within {seconds} s); tap elsewhere to keep it",
    "crew.hold_help": "touch: hold the student's screen {seconds} s for this screen",
    "crew.chooser_code_keys": "{accept} confirm collection-code mode · {quit} back",
    "crew.chooser_keys": "↑↓ choose · {accept} accept · {quit} back · digits: type a 院校代码 · or tap a line",
    "crew.chooser.no_roster": "no roster in the database: import one (kiosk roster import) or type a 院校代码 for collection-code mode",
    "crew.chooser.empty": "nobody in this choice: it cannot be opened",
    "crew.new_pin_title": "First start: the factory PIN 0000 must be replaced before shooting",
    "crew.new_pin_first": "Type the new crew PIN (4-8 digits), then accept",
    "crew.new_pin_again": "Type the new PIN once more, then accept",
    "crew.new_pin_keys": "digits: type · backspace: delete · {accept} accept · {quit} start again",
    "crew.pin_wrong": "Wrong PIN: type it again",
    "crew.pin_keys": "digits: type · backspace: delete · {accept} accept · {quit} back",
    "crew.phase.closed": "no session",
    "crew.phase.idle": "waiting for a scan",
    "crew.phase.identified": "checking identity",
    "crew.phase.framing": "framing",
    "crew.phase.countdown": "countdown",
    "crew.phase.capturing": "taking the photo",
    "crew.phase.review": "refused, retaking",
    "crew.phase.crew_decision": "crew decides",
    "crew.phase.saving": "saving",
    "crew.phase.saved": "saved",
    "crew.phase.unknown": "not in the roster",
    "crew.phase.wrong_session": "other session",
    "crew.phase.already_done": "already photographed",
    "crew.phase.failsafe": "recovering",
    "crew.device.camera": "camera",
    "crew.device.hid": "scanner",
    "crew.device.serial": "scanner",
    "crew.device.idcard": "card reader",
    "crew.device.sim": "simulated scanner",
    "crew.device.pedal": "pedal",
    # -- kiosk doctor: each fix answers its cause
    "doctor.fix": "fix: {fix}",
    "doctor.total": "{checks} checks, {failed} failed, {warned} warnings",
    "doctor.call_support": "call support",
    "doctor.camera_no_open": "camera does not open: {error}",
    "doctor.camera_fix_library": (
        "the camera software is missing: on the Pi run install.sh (python3-picamera2 from apt, "
        'in a venv with --system-site-packages); off the Pi set camera.backend = "sim"'
    ),
    "doctor.camera_fix_cable": (
        "reseat the ribbon cable at both ends (blue side as in hardware/wiring.md) "
        "and reboot; `rpicam-hello --list-cameras` must list the camera"
    ),
    "doctor.camera_fix_busy": (
        "stop kiosk.service first (one program at a time owns the camera), then retry"
    ),
    "doctor.camera_fix_other": (
        "reboot and retry; if it persists run `rpicam-hello --list-cameras` and call support"
    ),
    "doctor.camera_frozen": "camera found but delivered {frames} distinct frames in {seconds:g} s",
    "doctor.camera_simulated": "simulated camera (plays sample portraits), not a real camera",
    "doctor.camera_fix_sim": 'set camera.backend = "picamera2" before a real day',
    "doctor.camera_ok": "camera delivering frames",
    "doctor.framing_simulated": "simulated camera: no framing to work out",
    "doctor.framing_unknown": "camera model not recognised ({sensor}): the config's sizes are used",
    "doctor.framing_fix_unknown": (
        "work out still_size and frame_fill with kiosk geometry, put them in the config "
        'and set camera.framing = "config"'
    ),
    "doctor.framing_detail": (
        "{camera}: still {width}x{height}, frame_fill {fill:g}, distance {distance:g} m, "
        "crop {rows} rows"
    ),
    "doctor.framing_upscaled": ", fewer than the photo's {photo_rows}: photos are upscaled (blurred)",
    "doctor.framing_fix_auto": (
        'set camera.framing = "auto", or still_size = [{width}, {height}] and '
        "frame_fill = {fill:g} with the student at {distance:g} m"
    ),
    "doctor.framing_fix_camera": (
        "no distance gives this camera enough rows: use a Camera Module 3 (standard lens) "
        "or the HQ camera with the 16 mm lens"
    ),
    "doctor.scanner_fix": (
        "replug the scanner / card reader; `ls -l /dev/kiosk-*` must list them "
        "(hardware/70-kiosk.rules); check [scanner] devices in the config"
    ),
    "doctor.scanner_none": "no scanner configured and simulation off",
    "doctor.scanner_simulated": "simulated devices, not a real scanner or card reader: {devices}",
    "doctor.scanner_fix_simulated": (
        'list the real devices in [scanner] (devices = ["hid:/dev/kiosk-scanner", '
        '"idcard:/dev/kiosk-idcard"]) and set simulate = false'
    ),
    "doctor.scanner_ok": "every reader answers: {devices}",
    "doctor.central_fix": (
        "check the network and [sync] server_url and token (or token_file) in /etc/kiosk/kiosk.toml"
    ),
    "doctor.central_no_url": "sync.server_url is not set",
    "doctor.central_token_file": "sync.token_file {path}: {error}",
    "doctor.central_error": "central receiver {url}: {error}",
    "doctor.central_wrong_kiosk": "the token belongs to {who}, this kiosk is {station}",
    "doctor.central_fix_token": (
        "on the server run `central token add {station}` and put that token in the config"
    ),
    "doctor.central_ok": "central receiver accepts this kiosk's token ({who})",
    "doctor.display_other": "display: {message} (not KMS/DRM)",
    "doctor.display_none": "no connected screen found ({message})",
    "doctor.display_fix_plug": "plug the screen into HDMI 0 and restart",
    "doctor.display_no_permission": "no permission to open {device}",
    "doctor.display_fix_groups": "add the kiosk user to the video and render groups",
    "doctor.font_fix": "install one: apt install fonts-wqy-zenhei",
    "doctor.font_unreadable": "font unreadable: {error}",
    "doctor.font_lacks": "{font} lacks {characters}",
    "doctor.font_ok": "CJK font: {font}",
    "doctor.disk_detail": (
        "{free} free on {where}; a day of {shots} shots needs {needed} (about {each} each, {basis})"
    ),
    "doctor.disk_measured": "from the {count} photos stored",
    "doctor.disk_configured": "deployment.shot_bytes",
    "doctor.disk_format": "no photos yet: the format's largest, {kb:g} KB",
    "doctor.disk_fix": (
        "sync (kiosk sync --once) and export finished departments, then free space; "
        "or use a larger card"
    ),
    "doctor.disk_not_partition": (
        "{where} is not on the data partition but on the root's RAM overlay: "
        "photos would vanish at reboot"
    ),
    "doctor.disk_fix_partition": (
        "stop kiosk.service; `findmnt {where}` must show the kioskdata partition"
    ),
    "doctor.clock_bad_setting": "deployment.clock_not_before: '{value}' is not a date",
    "doctor.clock_fix_setting": "write it as YYYY-MM-DD",
    "doctor.clock_fix": (
        "connect the network and wait for NTP (timedatectl: System clock synchronized: yes), "
        "or set it: sudo date -s '...'"
    ),
    "doctor.clock_not_set": "clock not set: {now} is before {date}",
    "doctor.clock_went_back": "clock went back: {now} is before the newest record ({latest})",
    "doctor.clock_unconfirmed": "{now}, not confirmed by NTP: shots would carry an unchecked time",
    "doctor.clock_ok": "{now} (synchronised by NTP)",
    "doctor.database_none": "no database at {path}",
    "doctor.database_fix_import": (
        "import the school's roster: kiosk roster import FILE.xlsx "
        "(and check the data partition is mounted)"
    ),
    "doctor.database_damaged": "database damaged: {problems}",
    "doctor.database_fix_damaged": (
        "stop kiosk.service, copy the data folder somewhere safe, call support; "
        "do not delete photos"
    ),
    "doctor.database_ok": "database intact: {path}",
    "doctor.pin_ok": "the crew PIN is not the factory one",
    "doctor.pin_default": "the crew PIN is still the factory 0000: anyone in the hall can leave the kiosk",
    "doctor.pin_default_desk": "the crew PIN is still the factory 0000 (simulated devices here; change it on a real kiosk)",
    "doctor.pin_fix": "run `kiosk pin` to set a new one (4-8 digits), or set it on the screen at first start",
    "doctor.pedal_none": "no shutter pedal configured",
    "doctor.pedal_fix_busy": (
        "kiosk.service holds the pin while it runs: stop it first; wiring in hardware/wiring.md"
    ),
    "doctor.pedal_held": "GPIO{pin} reads pressed",
    "doctor.pedal_fix_held": "release the pedal or look for a short",
    "doctor.pedal_ok": "pedal on GPIO{pin}",
    # -- kiosk pin
    "pin.prompt": "New crew PIN (4-8 digits)",
    "pin.again": "Once more",
    "pin.mismatch": "the two entries differ; the PIN is unchanged",
    "pin.digits": "a PIN is 4 to 8 digits",
    "pin.too_simple": "too simple (not 0000, not one digit repeated)",
    "pin.saved": "new PIN saved in {path}; the station uses it from its next start",
    # -- kiosk run
    "run.no_roster": (
        "no roster student has 院校代码 {school}: import the school's roster "
        "(kiosk roster import), or confirm collection-code mode with --collection-codes"
    ),
    "run.collection_codes": "院校代码 {school} has no roster: collection-code mode, students scan their 学信网 图像采集码",
    "run.expected_unknown": "expected headcount of {school} unknown: progress counts only who was photographed (kiosk roster pull --school {school} fetches it from the office)",
    "run.empty_scope": "the roster of {school} has no '{category} {department}' students: check --category and --department (or choose on the crew screen)",
    "run.no_display": "no usable display: {problem}",
    # -- web accounts (central user ...)
    "account.bad_name": "{name!r}: a user name is 2-64 letters, digits or . _ @ -",
    "account.office_no_school": "an office account sees every school; leave out --school",
    "account.needs_school": "a school account needs --school CODE (the 5-digit 院校代码)",
    "account.bad_role": "role {role!r}: use office or school",
    "account.exists": "account {name} exists already: choose another name, or reset its password with central user reset {name}",
    "account.unknown": "no account named {name}: central user list shows them all",
    "account.added": "{role} account {name}{school} created. Its initial password (shown once; hand it over in person or by phone):",
    "account.reset": "the password of {name} is reset: the old one no longer works and every open session has ended. The new initial password (shown once); the user must choose their own at the next login:",
    "account.disabled": "account {name} is disabled: it cannot log in and its open sessions have ended. Undo with central user enable {name}",
    "account.enabled": "account {name} is enabled again; it logs in with its password (forgotten: central user reset {name})",
    "account.role.office": "office",
    "account.role.school": "school",
    "account.for_school": " (school {school})",
    "account.list.header": "name\trole\tschool\tstate\tlast login",
    "account.list.active": "active",
    "account.list.disabled": "disabled",
    "account.list.must_change": "must change password",
    "account.list.never": "never",
    "account.list.none": "no accounts yet: create one with central user add NAME --role office|school",
    # -- general
    "cli.error": "error: {text}",
}
