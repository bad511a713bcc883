"""The threshold rules, their fitting and the cross-validation folds: pure, no MediaPipe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.capture import measures as m
from kiosk.capture.evaluation import Label, Measured, cross_validate, k_folds, source_folds
from kiosk.capture.rules import RULES, Example, decide, fit, fit_threshold
from kiosk.capture.verdict import CREW_ACTS, CREW_EN, HINT_ZH, Reason
from kiosk.config import QualityConfig

GOOD: dict[str, float] = {
    "faces": 1.0,
    "eye_distance_px": 120.0,
    "eye_open_right": 0.7,
    "eye_open_left": 0.7,
    "mouth_open": 0.01,
    "mouth_width": 0.78,
    "brow_height": 0.14,
    "brow_raise": 0.33,
    "gaze": 0.02,
    "yaw": 2.0,
    "pitch": 1.0,
    "roll": 1.0,
    "sharpness": 1.0,
    "blockiness": 1.2,
    "luminance": 0.5,
    "darker_half_luminance": 0.45,
    "clipped_dark": 0.0,
    "clipped_bright": 0.0,
    "lip_contrast": 9.0,
    "face_chroma": 15.0,
    "eye_darkness": 0.5,
    "eye_glare": 0.0,
    "skin_glare": 0.0,
    "light_asymmetry": 0.4,
    "hand_cover": 0.0,
    "shoulder_tilt": 2.0,
    "clothing_delta_e": 50.0,
}


def test_a_good_face_passes_every_rule() -> None:
    assert decide(GOOD, QualityConfig()) == set()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"light_asymmetry": 2.7}, Reason.UNEVEN_LIGHT),
        ({"skin_glare": 0.05}, Reason.GLARE),
        ({"eye_glare": 0.08}, Reason.GLARE),
        ({"shoulder_tilt": 13.0}, Reason.SHOULDERS),
        ({"clothing_delta_e": 6.0}, Reason.CLOTHING),
        ({"hand_cover": 0.6}, Reason.OCCLUDED),
        ({"brow_raise": 0.5}, Reason.EXPRESSION),
        ({"eye_distance_px": 40.0}, Reason.FACE_TOO_SMALL),
        ({"faces": 2.0}, Reason.MULTIPLE_FACES),
    ],
)
def test_each_rule_refuses_with_its_code(change: dict[str, float], code: Reason) -> None:
    assert decide({**GOOD, **change}, QualityConfig()) == {code}


def test_thin_evidence_skips_the_detail_cues() -> None:
    """A 40 px face is face_too_small, not blurry or occluded for lack of detail."""
    thin = {**GOOD, "eye_distance_px": 40.0, "sharpness": 0.3, "eye_darkness": 0.1}
    assert decide(thin, QualityConfig()) == {Reason.FACE_TOO_SMALL}


def test_glare_is_not_judged_on_an_overexposed_face() -> None:
    burnt = {**GOOD, "luminance": 0.9, "skin_glare": 0.3, "eye_glare": 0.3}
    assert decide(burnt, QualityConfig()) == {Reason.TOO_BRIGHT}


def test_shoulders_are_not_judged_under_a_strong_side_light() -> None:
    dark_side = {**GOOD, "light_asymmetry": 2.7, "shoulder_tilt": 28.0}
    assert decide(dark_side, QualityConfig()) == {Reason.UNEVEN_LIGHT}


def test_lip_colour_is_not_judged_in_black_and_white() -> None:
    grey = {**GOOD, "face_chroma": 2.0, "lip_contrast": 0.0}
    assert decide(grey, QualityConfig()) == set()


def test_a_missing_measure_never_refuses() -> None:
    """The preview has no shoulders or hands: their rules stay silent."""
    partial = {k: v for k, v in GOOD.items() if k not in ("shoulder_tilt", "hand_cover")}
    assert decide(partial, QualityConfig()) == set()


def test_every_code_has_a_hint_and_a_crew_text() -> None:
    for reason in Reason:
        assert HINT_ZH[reason] and CREW_EN[reason]
    # Where only the crew can act, the student screen says so to the crew.
    assert {Reason.UNEVEN_LIGHT, Reason.CLOTHING} == CREW_ACTS
    for reason in Reason:
        assert HINT_ZH[reason].startswith("请工作人员") == (reason in CREW_ACTS), reason
    assert {r.code for r in RULES} <= set(Reason)


# -- fitting -----------------------------------------------------------------

EYES = next(r for r in RULES if r.name == "eyes")


def _eye_example(value: float, accept: bool) -> Example:
    cues = frozenset() if accept else frozenset({"eyes"})
    measures = {"eye_open_right": value, "eye_open_left": value}
    return Example(
        measures, accept, frozenset() if accept else frozenset({Reason.EYES_CLOSED}), cues
    )


def test_fit_puts_the_limit_in_the_middle_of_the_gap() -> None:
    examples = [_eye_example(v, True) for v in (0.5, 0.6, 0.8)]
    examples += [_eye_example(v, False) for v in (0.1, 0.3, 0.55)]  # 0.55 is not beyond
    assert fit_threshold(EYES, examples, QualityConfig()) == pytest.approx(0.4)


def test_fit_without_a_refused_photo_beyond_keeps_a_margin() -> None:
    examples = [_eye_example(v, True) for v in (0.5, 0.6, 0.7, 0.8)]
    limit = fit_threshold(EYES, examples, QualityConfig())
    assert limit < 0.5
    assert (
        decide({"eye_open_right": 0.5, "eye_open_left": 0.5}, fit(examples, QualityConfig()))
        == set()
    )


@given(
    st.lists(st.floats(0.3, 1.5), min_size=2, max_size=12),
    st.lists(st.floats(0.0, 1.5), min_size=0, max_size=12),
)
def test_fitted_limit_never_refuses_a_training_photo_that_was_accepted(
    accepted: list[float], refused: list[float]
) -> None:
    examples = [_eye_example(v, True) for v in accepted]
    examples += [_eye_example(v, False) for v in refused]
    q = fit(examples, QualityConfig())
    for v in accepted:
        assert Reason.EYES_CLOSED not in decide({"eye_open_right": v, "eye_open_left": v}, q)


# -- folds -------------------------------------------------------------------


def _labels() -> list[Label]:
    out = []
    for i in range(30):
        source = f"repo{i % 4}"
        out.append(
            Label(f"f{i}.jpg", "good" if i % 3 else "blurred", i % 3 != 0, "", source, f"p{i}")
        )
    # A degraded copy of f1 (same source file).
    out.append(Label("f30.jpg", "blurred", False, "DERIVED", "repo1", "p1"))
    return out


def test_k_folds_cover_every_photo_once_and_keep_copies_together() -> None:
    labels = _labels()
    folds = k_folds(labels, 5, seed=3)
    flat = sorted(i for f in folds for i in f)
    assert flat == list(range(len(labels)))
    assert next(f for f in folds if 1 in f) == next(f for f in folds if 30 in f)
    assert max(len(f) for f in folds) - min(len(f) for f in folds) <= 2


def test_source_folds_hold_one_source_each() -> None:
    labels = _labels()
    folds = source_folds(labels)
    assert len(folds) == 4
    for fold in folds:
        assert len({labels[i].source_repo for i in fold}) == 1


def test_cross_validation_never_sees_the_held_out_photo() -> None:
    """A held-out accepted photo beyond every training value is refused: the fit did not see it."""
    labels = [Label(f"a{i}.jpg", "good", True, "", f"s{i}") for i in range(5)]
    values = [0.8, 0.8, 0.8, 0.8, 0.45]
    measured = [
        Measured(lb, {**GOOD, "eye_open_right": v, "eye_open_left": v})
        for lb, v in zip(labels, values, strict=True)
    ]
    outcomes = cross_validate(measured, source_folds(labels), QualityConfig())
    assert [o.accepted for o in outcomes] == [True, True, True, True, False]


# -- geometry of the new measures --------------------------------------------


def _face() -> np.ndarray:
    """A flat synthetic mesh: 478 points on an ellipse-ish grid, eyes 100 px apart."""
    rng = np.random.default_rng(0)
    lm = np.zeros((478, 3))
    lm[:, 0] = 300 + rng.uniform(-80, 80, 478)
    lm[:, 1] = 300 + rng.uniform(-100, 120, 478)
    lm[468, :2] = (250, 280)
    lm[473, :2] = (350, 280)
    return lm


def _hand_at(x: float, y: float, size: float = 60) -> np.ndarray:
    angles = np.linspace(0, 2 * math.pi, 21, endpoint=False)
    return np.stack([x + size * np.cos(angles), y + size * np.sin(angles), np.zeros(21)], axis=1)


def test_a_hand_over_the_mouth_covers_it_and_one_beside_the_face_does_not() -> None:
    lm = _face()
    g = m.geometry(lm)
    lips = list(m.LIPS_OUTER)
    angles = np.linspace(0, 2 * math.pi, len(lips), endpoint=False)
    lm[lips, 0] = 300 + 25 * np.cos(angles)
    lm[lips, 1] = 400 + 10 * np.sin(angles)
    assert m.hand_cover(lm, [_hand_at(300, 400)], g) == 1.0
    # Beside the mouth by more than a finger's reach: nothing covered.
    assert m.hand_cover(lm, [_hand_at(1000, 1000)], g) == 0.0
    assert m.hand_cover(lm, [], g) == 0.0


def _srgb(linear: float) -> int:
    v = 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055
    return round(255 * v)


def _linear(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def test_light_asymmetry_survives_skin_tone() -> None:
    """Matched patches in linear light: the same 1-stop side light reads the same on any skin."""
    lm = _face()
    for i, j in zip(m.FOREHEAD_RIGHT + m.CHEEK_RIGHT, m.FOREHEAD_LEFT + m.CHEEK_LEFT, strict=True):
        lm[i, :2] = (200 + (i % 7) * 5, 250 + (i % 5) * 8)
        lm[j, :2] = (360 + (j % 7) * 5, 250 + (j % 5) * 8)
    readings = []
    for skin in (60, 120, 200):
        rgb = np.full((600, 600, 3), skin, np.uint8)
        rgb[:, 300:] = _srgb(_linear(skin) / 2)  # one stop less light on the image's right
        readings.append(m.light_asymmetry(m.Patch(rgb, lm[:, :2], 1.0)))
    assert readings == pytest.approx([1.0, 1.0, 1.0], abs=0.1)


def test_shoulder_tilt_from_pose_landmarks() -> None:
    body = np.zeros((33, 4))
    body[:, 3] = 1.0
    body[12, :2] = (100, 200)  # the subject's right shoulder, image left
    body[11, :2] = (300, 200 + 200 * math.tan(math.radians(12)))
    assert m.shoulder_tilt(body) == pytest.approx(12.0)
    body[11, 3] = 0.2  # hidden shoulder: no verdict
    assert m.shoulder_tilt(body) is None
