"""The face-quality check against the labelled set, synthetic variants and the kiosk framing."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest

from kiosk.capture import measures as m
from kiosk.capture.evaluation import (
    EXPECTED,
    Label,
    Measured,
    Outcome,
    cross_validate,
    evaluate,
    k_folds,
    measured_from,
    read_labels,
    source_folds,
    summarise,
)
from kiosk.capture.image import load_rgb
from kiosk.capture.quality import MEASURE_UNITS, FaceModel, QualityChecker
from kiosk.capture.verdict import FRAMING, Assessment, Reason
from kiosk.config import ConfigError, PhotoConfig, QualityConfig, from_dict
from tests import synth
from tests.conftest import FACES, need_shared

# Figures fitted to the solutions path's attention mesh; the Tasks path's
# plain mesh misses them (docs/quality.md, "The Tasks-API path"), so
# tests/test_tasks_path.py leaves these out there.
SOLUTIONS_FIGURES = pytest.mark.solutions_mesh


@pytest.fixture(scope="session")
def checker() -> QualityChecker:
    return QualityChecker(QualityConfig(), PhotoConfig(), FaceModel.shared())


@pytest.fixture(scope="session")
def labels() -> list[Label]:
    return read_labels(need_shared(FACES))


@pytest.fixture(scope="session")
def assessed(checker: QualityChecker, labels: list[Label]) -> dict[str, Assessment]:
    return {
        label.file: checker.assess(load_rgb(FACES / label.file), face_only=True) for label in labels
    }


@pytest.fixture(scope="session")
def outcomes(assessed: dict[str, Assessment], labels: list[Label]) -> list[Outcome]:
    def judge(path: Path) -> tuple[Reason, ...]:
        return assessed[path.name].reasons

    return evaluate(FACES, judge, labels)


@pytest.fixture(scope="session")
def measured(assessed: dict[str, Assessment], labels: list[Label]) -> list[Measured]:
    return [measured_from(label, assessed[label.file], QualityConfig()) for label in labels]


@pytest.fixture(scope="session")
def good_faces(checker: QualityChecker, labels: list[Label]):
    """(file, rgb, face-only assessment) of every photo labelled acceptable."""
    found = []
    for label in labels:
        if label.accept:
            rgb = load_rgb(FACES / label.file)
            found.append((label.file, rgb, checker.assess(rgb, face_only=True)))
    return found


# -- the labelled set --------------------------------------------------------


def test_labelled_set_agreement(outcomes: list[Outcome]) -> None:
    summary = summarise(outcomes)
    wrong = [f"{o.label.file} ({o.label.category}): {o.reasons}" for o in outcomes if not o.agrees]
    assert summary.total == len(outcomes) >= 80
    assert summary.agreement >= 0.95, f"accept/refuse agreement {summary.agreement:.1%}: {wrong}"


@SOLUTIONS_FIGURES
def test_labelled_set_expected_codes(outcomes: list[Outcome]) -> None:
    summary = summarise(outcomes)
    wrong = [
        f"{o.label.file} ({o.label.category}): {o.reasons}" for o in outcomes if not o.code_right
    ]
    assert summary.code_rate >= 0.90, f"expected code {summary.code_rate:.1%}: {wrong}"


@SOLUTIONS_FIGURES
def test_cross_validated_figures_meet_the_targets(
    measured: list[Measured], labels: list[Label]
) -> None:
    """Thresholds fitted on the other folds, judged on the held-out one (issue 16's targets)."""
    q = QualityConfig()
    for seed in (0, 1, 2):
        s = summarise(cross_validate(measured, k_folds(labels, 5, seed), q))
        assert s.agreement >= 0.95 and s.code_rate >= 0.90, (seed, s)
    loso = summarise(cross_validate(measured, source_folds(labels), q))
    assert loso.agreement >= 0.95 and loso.code_rate >= 0.90, loso


def test_cached_measures_reproduce_the_live_verdicts(
    measured: list[Measured], outcomes: list[Outcome]
) -> None:
    """The cross-validation re-decides from measures: it must match the checker exactly."""
    q = QualityConfig()
    assert [p.judge(q).reasons for p in measured] == [o.reasons for o in outcomes]


def test_every_image_in_the_set_is_readable(outcomes: list[Outcome]) -> None:
    assert [o.label.file for o in outcomes if o.reasons is None] == []


def test_measures_carry_units(outcomes: list[Outcome], checker: QualityChecker) -> None:
    rgb = load_rgb(FACES / outcomes[0].label.file)
    assessment = checker.assess(rgb, face_only=False)
    assert assessment.measures
    assert set(assessment.measures) <= set(MEASURE_UNITS)


# -- synthetic variants of the good photos ---------------------------------


@SOLUTIONS_FIGURES
def test_good_photos_in_a_kiosk_frame_are_accepted(checker: QualityChecker, good_faces) -> None:
    refused = {}
    for name, rgb, face in good_faces:
        still = synth.kiosk_still(rgb, face, checker.model)
        assessment = checker.assess(still)
        if not assessment.accepted:
            refused[name] = assessment.reasons
    assert refused == {}


VARIANTS = {
    "roll": (lambda rgb, a, model: synth.rotate(rgb, 15), True, {Reason.HEAD_POSE}),
    "roll_other_way": (lambda rgb, a, model: synth.rotate(rgb, -12), True, {Reason.HEAD_POSE}),
    "blur": (
        lambda rgb, a, model: synth.gaussian_blur(rgb, a.measures["eye_distance_px"], 0.06),
        True,
        {Reason.BLURRY},
    ),
    "dark": (lambda rgb, a, model: synth.darken(rgb, gain=0.3), True, {Reason.TOO_DARK}),
    "side_lit": (
        # Half the face in shadow (the shadow edge along the nose).
        lambda rgb, a, model: synth.side_light(
            rgb,
            0.55 * a.face_box[0] + 0.45 * a.face_box[2],
            0.45 * a.face_box[0] + 0.55 * a.face_box[2],
            dark_gain=0.2,
        ),
        True,
        {Reason.TOO_DARK},
    ),
    "pixelated": (
        lambda rgb, a, model: synth.pixelate(rgb, 0.1 * a.measures["eye_distance_px"]),
        True,
        {Reason.BLURRY},
    ),
    "bright": (lambda rgb, a, model: synth.brighten(rgb), True, {Reason.TOO_BRIGHT}),
    "glare_on_glasses": (
        lambda rgb, a, model: synth.glare(rgb, a.landmarks),
        True,
        {Reason.GLARE},
    ),
    "shrink": (
        lambda rgb, a, model: synth.kiosk_still(rgb, a, model, scale=0.6),
        False,
        {Reason.FACE_TOO_SMALL},
    ),
    "enlarge": (
        lambda rgb, a, model: synth.kiosk_still(rgb, a, model, scale=1.6),
        False,
        {Reason.FACE_TOO_LARGE},
    ),
    "shift": (
        lambda rgb, a, model: synth.kiosk_still(rgb, a, model, shift=(0.15, 0.0)),
        False,
        {Reason.OFF_CENTER},
    ),
    "busy_background": (
        lambda rgb, a, model: synth.busy_background(synth.kiosk_still(rgb, a, model), model),
        False,
        {Reason.BACKGROUND},
    ),
    "wrong_colour_background": (
        lambda rgb, a, model: synth.kiosk_still(rgb, a, model, background=(200, 60, 40)),
        False,
        {Reason.BACKGROUND},
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_synthetic_variant_gets_its_code(checker: QualityChecker, good_faces, variant: str) -> None:
    make, face_only, expected = VARIANTS[variant]
    missed = {}
    for name, rgb, face in good_faces:
        reasons = set(checker.assess(make(rgb, face, checker.model), face_only=face_only).reasons)
        if not expected & reasons:
            missed[name] = sorted(reasons)
    assert missed == {}, f"{variant}: expected {expected}"


def test_face_only_never_gives_framing_codes(checker: QualityChecker, good_faces) -> None:
    _, rgb, face = good_faces[0]
    small = synth.kiosk_still(rgb, face, checker.model, scale=0.5, shift=(0.2, 0.1))
    assert FRAMING & set(checker.assess(small, face_only=False).reasons)
    assert not FRAMING & set(checker.assess(small, face_only=True).reasons)


def test_a_head_on_its_side_is_head_pose(checker: QualityChecker, good_faces) -> None:
    for _, rgb, _ in good_faces[:4]:
        lying = np.ascontiguousarray(np.rot90(rgb))
        assessment = checker.assess(lying, face_only=True)
        assert Reason.HEAD_POSE in assessment.reasons
        assert abs(assessment.measures["roll"]) > 45


def test_blank_frame_is_no_face(checker: QualityChecker) -> None:
    frame = np.full((480, 640, 3), (100, 197, 255), np.uint8)
    a = checker.assess(frame)
    assert a.reasons == (Reason.NO_FACE,)
    assert a.hint_zh == "请站到镜头前"
    a = checker.assess(frame, still=False)
    assert a.reasons == (Reason.NO_FACE,)


def test_two_students_in_frame(checker: QualityChecker, good_faces) -> None:
    _, rgb, face = good_faces[0]
    _, rgb2, face2 = good_faces[1]
    left = synth.kiosk_still(rgb, face, checker.model, size=(640, 720))
    right = synth.kiosk_still(rgb2, face2, checker.model, size=(640, 720))
    both = np.concatenate([left, right], axis=1)
    assert Reason.MULTIPLE_FACES in checker.assess(both, face_only=True).reasons


def test_preview_path_tracks_and_agrees_with_still(checker: QualityChecker, good_faces) -> None:
    _, rgb, face = good_faces[2]
    frame = synth.kiosk_still(rgb, face, checker.model, size=(640, 480))
    still = checker.assess(frame, still=True)
    for _ in range(3):  # the tracker carries the face from frame to frame
        preview = checker.assess(frame, still=False)
    assert preview.accepted == still.accepted
    assert np.abs(preview.landmarks[:, :2] - still.landmarks[:, :2]).mean() < 3.0


def test_assess_from_worker_threads(checker: QualityChecker, good_faces) -> None:
    frames = [
        synth.kiosk_still(rgb, a, checker.model, size=(640, 480)) for _, rgb, a in good_faces[:4]
    ]
    expected = [checker.assess(f).reasons for f in frames]
    got: dict[int, tuple[Reason, ...]] = {}

    def work(i: int) -> None:
        got[i] = checker.assess(frames[i]).reasons

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(frames))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(len(frames))] == expected


def test_rejects_wrong_array(checker: QualityChecker) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        checker.assess(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="RGB uint8"):
        checker.assess(np.zeros((10, 10, 3), np.float32))


def test_thresholds_come_from_config(good_faces) -> None:
    _, rgb, _ = good_faces[0]
    strict = QualityChecker(QualityConfig(eye_open_min=5.0, sharpness_min=50.0))
    reasons = strict.assess(rgb, face_only=True).reasons
    assert Reason.EYES_CLOSED in reasons and Reason.BLURRY in reasons


# -- measures (pure geometry) ----------------------------------------------


def _turn(lm: np.ndarray, yaw: float = 0.0, roll: float = 0.0) -> np.ndarray:
    centre = lm[:, :3].mean(axis=0)
    p = lm[:, :3] - centre
    a, b = math.radians(yaw), math.radians(roll)
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rz = np.array([[math.cos(b), -math.sin(b), 0], [math.sin(b), math.cos(b), 0], [0, 0, 1]])
    return p @ ry.T @ rz.T + centre


def test_head_pose_follows_a_turned_mesh(good_faces) -> None:
    lm = good_faces[0][2].landmarks
    yaw0, _, roll0 = m.head_pose(lm)
    yaw, _, _ = m.head_pose(_turn(lm, yaw=20))
    assert abs(abs(yaw - yaw0) - 20) < 2
    _, _, roll = m.head_pose(_turn(lm, roll=10))
    assert abs((roll - roll0) - 10) < 1
    g = m.geometry(_turn(lm, roll=10))
    assert abs(g.roll - m.geometry(lm).roll - 10) < 1


def test_measures_do_not_depend_on_image_size(checker: QualityChecker, good_faces) -> None:
    _, rgb, a = good_faces[3]
    import cv2

    half = cv2.resize(rgb, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    b = checker.assess(half, face_only=True)
    for key in ("eye_open_left", "eye_open_right", "mouth_open", "mouth_width", "roll"):
        assert b.measures[key] == pytest.approx(
            a.measures[key], abs=0.08 * max(1, abs(a.measures[key]))
        )


# -- evaluation bookkeeping (pure) -----------------------------------------


def test_expected_codes_for_glasses_follow_the_notes() -> None:
    smile = Label("a.jpg", "glasses", False, "clear glasses; broad smile with teeth")
    covered = Label(
        "b.jpg", "glasses", False, "glasses; naval cap (head covering); tiny image 128x128"
    )
    fine = Label("c.jpg", "glasses", True, "clear glasses, no glare")
    assert smile.expected == {Reason.MOUTH_OPEN, Reason.EXPRESSION}
    assert covered.expected == {Reason.OCCLUDED, Reason.BLURRY, Reason.FACE_TOO_SMALL}
    assert fine.expected == frozenset()
    assert Label("d.jpg", "blurred", False, "").expected == EXPECTED["blurred"]


def test_outcome_scoring() -> None:
    closed = Label("a.jpg", "eyes_closed", False, "")
    assert Outcome(closed, (Reason.EYES_CLOSED, Reason.BLURRY)).code_right
    assert Outcome(closed, (Reason.BLURRY,)).agrees
    assert not Outcome(closed, (Reason.BLURRY,)).code_right
    assert not Outcome(closed, ()).agrees
    assert not Outcome(closed, None, "unreadable").agrees
    good = Label("b.jpg", "good", True, "")
    assert Outcome(good, ()).agrees and Outcome(good, ()).code_right
    assert not Outcome(good, (Reason.BLURRY,)).code_right


# -- config ----------------------------------------------------------------


def test_quality_and_photo_config_load_from_toml_tables() -> None:
    config = from_dict({"quality": {"yaw_max": 10}, "photo": {"background": "white"}})
    assert config.quality.yaw_max == 10.0
    assert config.photo.background_rgb == (255, 255, 255)
    assert PhotoConfig().background_rgb == (100, 197, 255)
    with pytest.raises(ConfigError, match=r"quality\.eye_open_min"):
        from_dict({"quality": {"eye_open_min": -1}})
    with pytest.raises(ConfigError, match=r"photo\.background"):
        from_dict({"photo": {"background": "red"}})


def test_preview_notices_a_second_face_within_the_refresh(good_faces) -> None:
    checker = QualityChecker(QualityConfig(preview_refresh=3), model=FaceModel.shared())
    _, rgb, face = good_faces[0]
    _, rgb2, face2 = good_faces[1]
    alone = synth.kiosk_still(rgb, face, checker.model, size=(640, 480))
    second = synth.kiosk_still(rgb2, face2, checker.model, size=(320, 240))
    crowded = alone.copy()
    crowded[:240, 440:640] = second[:, 60:260]  # someone behind, over the shoulder
    for _ in range(4):
        assert Reason.MULTIPLE_FACES not in checker.assess(alone, still=False).reasons
    seen = [Reason.MULTIPLE_FACES in checker.assess(crowded, still=False).reasons for _ in range(3)]
    assert any(seen)
    assert Reason.MULTIPLE_FACES in checker.assess(crowded, still=True).reasons


def test_preview_says_no_face_as_soon_as_the_student_leaves(good_faces) -> None:
    checker = QualityChecker(QualityConfig(preview_refresh=5), model=FaceModel.shared())
    _, rgb, face = good_faces[0]
    present = synth.kiosk_still(rgb, face, checker.model, size=(640, 480))
    empty = np.full_like(present, PhotoConfig().background_rgb)
    for _ in range(2):
        assert checker.assess(present, still=False).accepted
    assert checker.assess(empty, still=False).reasons == (Reason.NO_FACE,)


@SOLUTIONS_FIGURES
def test_a_crowd_of_small_faces_is_multiple_faces(checker: QualityChecker, good_faces) -> None:
    import cv2

    canvas = np.full((1080, 1920, 3), 90, np.uint8)
    for i, (_, rgb, face) in enumerate(good_faces[:8]):
        x0, y0, x1, y1 = (int(v) for v in face.face_box)
        pad = (x1 - x0) // 2
        crop = rgb[max(y0 - pad, 0) : y1 + pad, max(x0 - pad, 0) : x1 + pad]
        small = cv2.resize(
            crop, (64, round(64 * crop.shape[0] / crop.shape[1])), interpolation=cv2.INTER_AREA
        )
        x, y = 120 + (i % 4) * 450, 250 + (i // 4) * 450
        canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    assessment = checker.assess(canvas, face_only=True)
    assert Reason.MULTIPLE_FACES in assessment.reasons
    assert assessment.measures["faces"] >= 4


# -- small faces -------------------------------------------------------------


@SOLUTIONS_FIGURES
def test_a_sharp_face_at_50_to_60_px_is_judged_not_refused_for_detail(
    checker: QualityChecker, good_faces
) -> None:
    """Issue 16: 50-60 px between the eyes is enough; fewer is face_too_small, never occluded."""
    import cv2

    for name, rgb, face in good_faces:
        for eyes in (60.0, 52.0):
            f = eyes / face.measures["eye_distance_px"]
            if f >= 1:
                continue
            small = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            reasons = set(checker.assess(small, face_only=True).reasons)
            assert not reasons & {Reason.OCCLUDED, Reason.BLURRY, Reason.FACE_TOO_SMALL}, (
                name,
                eyes,
                reasons,
            )
        f = 36.0 / face.measures["eye_distance_px"]
        tiny = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        reasons = set(checker.assess(tiny, face_only=True).reasons)
        assert Reason.FACE_TOO_SMALL in reasons, (name, reasons)
        assert Reason.OCCLUDED not in reasons and Reason.BLURRY not in reasons, (name, reasons)


# -- kiosk stills: the demo's staged portraits and degraded copies -------------

NEW_CODES = frozenset({Reason.UNEVEN_LIGHT, Reason.GLARE, Reason.SHOULDERS, Reason.CLOTHING})
ACCEPTED_PORTRAITS = ("face_001.jpg", "face_041.jpg")


@pytest.fixture(scope="session")
def staged(checker: QualityChecker):
    """name -> (still 2304 x 1296, person mask, assessment)."""
    return {
        name: (still, mask, checker.assess(still))
        for name, (still, mask) in synth.staged_portraits().items()
    }


@SOLUTIONS_FIGURES
def test_staged_portraits_keep_their_verdicts_without_new_codes(staged) -> None:
    for name in ACCEPTED_PORTRAITS:
        assert staged[name][2].reasons == (), name
    for name in set(staged) - set(ACCEPTED_PORTRAITS):  # the smiling ones
        reasons = set(staged[name][2].reasons)
        assert reasons & {Reason.MOUTH_OPEN, Reason.EXPRESSION}, name


def _box(a: Assessment) -> tuple[float, float]:
    assert a.face_box is not None
    return a.face_box[0], a.face_box[2]


KIOSK_VARIANTS = {
    # A lamp on one side: the shadow edge along the nose, 2.7 stops darker.
    "side_light": (
        lambda still, mask, a: synth.side_light(
            still,
            0.55 * _box(a)[0] + 0.45 * _box(a)[1],
            0.45 * _box(a)[0] + 0.55 * _box(a)[1],
            dark_gain=0.15,
        ),
        {Reason.UNEVEN_LIGHT},
    ),
    "blur": (
        lambda still, mask, a: synth.gaussian_blur(still, a.measures["eye_distance_px"], 0.06),
        {Reason.BLURRY},
    ),
    "tilt": (
        lambda still, mask, a: synth.tilt(still, 15, PhotoConfig().background_rgb),
        {Reason.HEAD_POSE},
    ),
    "shiny_skin": (lambda still, mask, a: synth.skin_shine(still, a.landmarks), {Reason.GLARE}),
    "glasses_glare": (lambda still, mask, a: synth.glare(still, a.landmarks), {Reason.GLARE}),
    "clothes_like_backdrop": (
        lambda still, mask, a: synth.clothes_like(still, mask, a.landmarks, (110, 190, 240)),
        {Reason.CLOTHING},
    ),
}


@pytest.mark.parametrize("variant", sorted(KIOSK_VARIANTS))
@pytest.mark.parametrize("portrait", ACCEPTED_PORTRAITS)
def test_degraded_kiosk_still_gets_its_codes(
    checker: QualityChecker, staged, portrait: str, variant: str
) -> None:
    make, expected = KIOSK_VARIANTS[variant]
    still, mask, a = staged[portrait]
    reasons = set(checker.assess(make(still, mask, a)).reasons)
    assert expected <= reasons, (variant, sorted(reasons))
    # A code from the new rules only where the degradation calls for it (a
    # leaning student may also have leaning shoulders).
    allowed = expected | ({Reason.SHOULDERS} if variant == "tilt" else set())
    assert not (reasons & NEW_CODES) - allowed, (variant, sorted(reasons))


@pytest.mark.parametrize("degrees", [15, -15])
def test_leaning_shoulders_are_refused_on_the_still_only(
    checker: QualityChecker, staged, degrees: int
) -> None:
    """face_001 shows both shoulders whole (face_041 is cut at their tops: pose is unsure there)."""
    still, _, _ = staged["face_001.jpg"]
    leaning = synth.tilt(still, degrees, PhotoConfig().background_rgb)
    assert Reason.SHOULDERS in checker.assess(leaning).reasons
    preview = leaning[::3, ::3].copy()
    for _ in range(3):
        assert Reason.SHOULDERS not in checker.assess(preview, still=False).reasons


@pytest.mark.parametrize("portrait", ACCEPTED_PORTRAITS)
def test_a_real_rooms_light_falloff_is_accepted(checker: QualityChecker, staged, portrait) -> None:
    """Mild lateral fall-off (a window, one lamp a little off axis) is not 阴阳脸."""
    still, _, a = staged[portrait]
    left, right = _box(a)
    for stops in (0.7, 1.0):
        lit = synth.light_falloff(still, left, right, stops)
        assessment = checker.assess(lit)
        assert assessment.accepted, (stops, assessment.reasons, assessment.measures)
