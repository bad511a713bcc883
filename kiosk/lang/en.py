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
    "export.failed": "{folder}: export failed: {text}",
    # -- kiosk sync
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
    "sync.session_mismatch": "session {session}: kiosk {local}, receiver {remote}: MISMATCH",
    # -- the crew screen (kiosk/display/crew.py)
    "crew.title": "Queue",
    "crew.no_session": "No session: press {session} to open one",
    "crew.session": "{school} {category} {department}",
    "crew.department": "Department",
    "crew.done": "done",
    "crew.remaining": "left",
    "crew.retakes": "retakes",
    "crew.refused": "refused",
    "crew.rate": "per hour {rate10:.0f} (10 min) / {rate60:.0f} (60 min), target {target}",
    "crew.recent": "Last accepted",
    "crew.waiting": "Waiting",
    "crew.nobody_waiting": "nobody waiting",
    "crew.devices": "Devices",
    "crew.disk": "disk free {free}",
    "crew.backlog": "sync backlog {count}",
    "crew.keys": "Keys: {shutter} shutter · {accept} accept · {retake} retake · {skip} skip · {walk_in} walk-in · {session} open/close session · {crew} screen · {quit} exit (PIN)",
    "crew.pin": "Crew PIN: {stars}",
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
    # -- general
    "cli.error": "error: {text}",
}
