"""What the student and crew screens say, drawn for real with pygame (SDL dummy driver)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import pygame

from kiosk import station as st
from kiosk.capture.verdict import Assessment, Reason
from kiosk.config import StationConfig
from kiosk.display import crew, student, texts
from kiosk.display.font import Fonts
from kiosk.display.view import View
from kiosk.progress import DepartmentProgress, Progress
from kiosk.scanner.base import DeviceStatus, Identity
from kiosk.student import Student

SIZES = ((800, 480), (1280, 800), (1920, 1080))
PERSON = Student(
    id_number="62010220010101123X",
    student_number="20210000123",
    name="张三",
    school_name="示例大学",
    school_code="19999",
    department="信息学院",
    major="软件工程",
)
SESSION = st.SessionInfo(1, "19999", "普通生", "", "示例大学")


class Recording(Fonts):
    """The real fonts, remembering every text drawn."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def render(self, text: str, size: int, colour: Any, background: Any = None) -> Any:
        self.texts.append(text)
        return super().render(text, size, colour, background)


@pytest.fixture(scope="module")
def fonts() -> Recording:
    pygame.display.init()
    pygame.font.init()
    return Recording()


def subject(kind: str = "student_number") -> st.Subject:
    value = PERSON.student_number if kind == "student_number" else str(PERSON.id_number)
    return st.Subject(Identity(kind, value, b"", "hid"), PERSON)  # type: ignore[arg-type]


def drawn(
    fonts: Recording, state: st.State, size: tuple[int, int] = (800, 480), **view: Any
) -> str:
    fonts.texts.clear()
    surface = pygame.Surface(size)
    student.draw_student(surface, View(state=state, now=0.0, **view), fonts)
    return "\n".join(fonts.texts)


def test_identified_shows_the_name_and_a_masked_number_and_asks(fonts: Recording) -> None:
    state = st.State(phase=st.Phase.IDENTIFIED, session=SESSION, subject=subject())
    text = drawn(fonts, state)
    assert "张三" in text and texts.IS_IT_YOU in text
    assert "学号 2021****123" in text and PERSON.student_number not in text
    by_card = drawn(fonts, st.State(phase=st.Phase.IDENTIFIED, subject=subject("id_number")))
    assert "身份证号 620102********123X" in by_card and str(PERSON.id_number) not in by_card
    # time to read it and say "not me" before framing starts
    assert StationConfig().confirm_s >= 3.0


@pytest.mark.parametrize("size", SIZES)
def test_the_countdown_is_beside_the_face_not_over_it(
    fonts: Recording, size: tuple[int, int]
) -> None:
    w, h = size
    frame = np.zeros((720, 1280, 3), np.uint8)
    guide = (640.0, 300.0, 150.0, 200.0)
    view = View(state=st.State(), now=0.0, frame=frame, guide=guide)
    oval = student.guide_on_screen(view, size)
    assert oval is not None
    cx, _, rx, _ = oval
    x, _ = student.countdown_centre(size, oval)
    digit_half = student.COUNTDOWN_SIZE * h * 0.3  # a digit is ~0.6 of its size wide
    assert x - digit_half > cx + rx or x + digit_half < cx - rx
    assert 0 < x + digit_half <= w


def test_a_refusal_gets_a_kind_word_and_what_to_do(fonts: Recording) -> None:
    state = st.State(
        phase=st.Phase.REVIEW,
        subject=subject(),
        reasons=(Reason.MOUTH_OPEN,),
        hint="请闭上嘴巴",
    )
    assert "没关系，我们再拍一张：请闭上嘴巴" in drawn(fonts, state)


def test_a_lighting_fault_asks_the_student_to_wait_and_tells_the_crew(fonts: Recording) -> None:
    state = st.State(
        phase=st.Phase.FRAMING,
        session=SESSION,
        subject=subject(),
        reasons=(Reason.TOO_DARK,),
        hint="光线太暗",
    )
    text = drawn(fonts, state)
    assert texts.LIGHT_WAIT in text and "光线太暗" not in text
    fonts.texts.clear()
    crew.draw_crew(pygame.Surface((800, 480)), View(state=state, now=0.0), fonts)
    assert any("光线太暗" in t and "灯光" in t for t in fonts.texts)


def test_the_saved_screen_says_done_and_make_room(fonts: Recording) -> None:
    jpeg_state = st.State(phase=st.Phase.SAVED, subject=subject(), seq=12)
    text = drawn(fonts, jpeg_state)
    assert texts.DONE in text and "拍摄序号 12" in text


def progress_of(departments: int) -> Progress:
    rows = tuple(
        DepartmentProgress(f"第{i:02d}学院", 10, i % 10, 0, 0, 1 if i % 10 else 0)
        for i in range(departments)
    )
    return Progress(departments=rows, per_hour_10=60.0, per_hour_60=50.0)


@pytest.mark.parametrize("size", SIZES)
def test_crew_screen_shows_every_department_totals_and_time_left(
    fonts: Recording, size: tuple[int, int]
) -> None:
    progress = progress_of(23)
    state = st.State(
        phase=st.Phase.SAVED,
        session=SESSION,
        devices={
            "camera": DeviceStatus("camera", "ok"),
            "hid:/dev/input/event3": DeviceStatus("hid:/dev/input/event3", "lost", "unplugged"),
        },
        refusal=st.Refusal("李四", (Reason.EYES_CLOSED, Reason.BLURRY)),
    )
    seen: set[str] = set()
    for now in np.arange(0.0, 200.0, 3.0):  # the pages turn by themselves
        fonts.texts.clear()
        crew.draw_crew(
            pygame.Surface(size), View(state=state, now=float(now), progress=progress), fonts
        )
        seen.update(fonts.texts)
    assert {d.department for d in progress.departments} <= seen
    totals = progress.totals
    assert "合计" in seen and str(totals.done) in seen and f"{totals.percent_done:.0f}%" in seen
    assert "缺席" in seen and str(totals.absent) in seen
    left = progress.hours_left()
    assert left is not None
    hours, minutes = divmod(round(left * 60), 60)
    assert any(f"剩余约 {hours} 小时 {minutes} 分" in t for t in seen)
    assert any("未通过：李四 — 闭眼或眯眼；照片不清晰" in t for t in seen)
    # state and device names in the crew's language, not the code's
    joined = "\n".join(seen)
    assert "状态: 已保存" in joined and "saved" not in joined
    assert "相机 正常" in joined and "扫描枪 断开" in joined and "hid" not in joined


def test_crew_screen_in_english(fonts: Recording) -> None:
    state = st.State(phase=st.Phase.IDLE, session=SESSION)
    fonts.texts.clear()
    view = View(state=state, now=0.0, progress=progress_of(3), language="en")
    crew.draw_crew(pygame.Surface((1280, 800)), view, fonts)
    joined = "\n".join(fonts.texts)
    assert "state: waiting for a scan" in joined and "Total" in joined
    assert "状态" not in joined and "合计" not in joined


def test_assessment_hint_for_light_is_still_the_code_for_the_record() -> None:
    # the stable code stays (database, sync): only the words on screen change
    assert Assessment.of([Reason.TOO_DARK]).reasons == (Reason.TOO_DARK,)


def test_first_start_asks_the_crew_for_a_new_pin(fonts: Recording) -> None:
    state = st.State(new_pin=st.NewPin(first="4821", typed="48", problem=""))
    fonts.texts.clear()
    crew.draw_crew(pygame.Surface((800, 480)), View(state=state, now=0.0), fonts)
    joined = "\n".join(fonts.texts)
    assert "出厂密码 0000 必须改掉" in joined and "再输一遍" in joined and "●●" in joined
    assert "4821" not in joined


def test_after_a_button_that_moves_the_student_on_their_screen_comes_back() -> None:
    session = st.SessionInfo(1, "10055", "")
    framing = st.State(phase=st.Phase.FRAMING, session=session)
    assert crew.back_to_student("skip", framing) and crew.back_to_student("crew", framing)
    assert not crew.back_to_student("quit", framing)  # 退出: the PIN pad is the crew's
    assert not crew.back_to_student("session", st.State(phase=st.Phase.IDLE, session=session))
    # a chooser's or a PIN pad's 确认 is not the session row's
    assert not crew.back_to_student("accept", st.State(new_pin=st.NewPin()))
