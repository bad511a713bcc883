"""The roster import report in the reader's language (kiosk/lang).

Why from the codes: a :class:`~kiosk.roster.RowProblem` carries its stable
code, Excel row, column and cell value, which is everything a sentence needs;
so the rules in kiosk/roster.py stay free of wording, and the Chinese and the
English line say the same thing. The English ``message`` stays in the JSON
report for tools.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kiosk import roster
from kiosk.lang import Words

SHOWN_PROBLEMS = 30
_OTHER_SEX = {"男": "女", "女": "男"}


def problem_message(
    words: Words, problem: roster.RowProblem, problems: Sequence[roster.RowProblem]
) -> str:
    code = problem.code
    if code == roster.ID_AS_NUMBER and "e" in problem.value.lower():
        return words("problem.id_scientific")
    if code == roster.SEX_MISMATCH:
        return words(
            code_key(code), given=problem.value, from_id=_OTHER_SEX.get(problem.value, "?")
        )
    if code in (roster.DUPLICATE_ID, roster.DUPLICATE_STUDENT_NUMBER):
        others = sorted(
            {p.row for p in problems if p.code == code and p.value == problem.value} - {problem.row}
        )
        return words(code_key(code), others=", ".join(map(str, others)))
    if code == roster.MISSING_VALUE:
        return words(code_key(code), column=problem.column)
    if words.has(code_key(code)):
        return words(code_key(code))
    return problem.message  # a code added without a sentence: tests/test_lang.py says so


def code_key(code: str) -> str:
    return f"problem.{code}"


def import_lines(
    words: Words, report: roster.ImportReport, seconds: float, report_path: Path | None
) -> list[str]:
    """What ``kiosk roster import`` prints: summary, warnings, problems, the fix."""
    lines = [
        words(
            "roster.summary",
            file=Path(report.file).name,
            rows=report.rows,
            imported=report.imported,
            new=report.new,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=len(report.rejected_rows),
            seconds=seconds,
        )
    ]
    lines += [words("roster.warning", text=words.text(w)) for w in report.warnings]
    for problem in report.rejected[:SHOWN_PROBLEMS]:
        lines.append(
            words(
                "roster.problem",
                row=problem.row,
                column=problem.column,
                value=problem.value,
                message=problem_message(words, problem, report.rejected),
                code=problem.code,
            )
        )
    if len(report.rejected) > SHOWN_PROBLEMS:
        hint = (
            words("roster.more_in_file", path=report_path)
            if report_path
            else words("roster.more_hint")
        )
        lines.append(words("roster.more", count=len(report.rejected) - SHOWN_PROBLEMS, hint=hint))
    if report.rejected_rows:
        lines.append(words("roster.fix_and_reimport"))
    return lines
