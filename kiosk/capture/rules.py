"""The threshold rules of the face check: measures + thresholds -> reason codes.

Why a module of its own: the decision is a pure function of the measures
and the :class:`~kiosk.config.QualityConfig`, so it can be unit-tested,
and the cross-validation in :mod:`kiosk.capture.evaluation` can re-fit the
thresholds on some photos and score others from cached measures, without
running MediaPipe again.

Each :class:`Rule` reads one value from the measures (``None`` when it does
not apply: no mesh, a black-and-white photo, an over-exposed face) and
refuses with its code when the value is beyond its threshold. ``fitted``
rules take their threshold from labelled photos (the gap between accepted
and refused ones, see :func:`fit_threshold`); the others come from a
standard (ISO/IEC 19794-5, ISO/IEC 29794-5 / OFIQ) or from geometry and are
never moved by the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from kiosk.capture.verdict import Reason
from kiosk.config import QualityConfig

Measures = Mapping[str, float]


@dataclass(frozen=True)
class Rule:
    """Refuse with ``code`` when ``value(measures)`` is above (``upper``) or below the threshold."""

    name: str
    code: Reason
    setting: str  # the QualityConfig field holding the threshold
    value: Callable[[Measures], float | None]
    upper: bool  # True: refuse above the threshold; False: refuse below it
    fitted: bool  # True: threshold from labelled photos; False: from a standard
    preview: bool = True  # False: the measure exists on the still only

    def threshold(self, q: QualityConfig) -> float:
        return float(getattr(q, self.setting))

    def refuses(self, measures: Measures, q: QualityConfig) -> bool:
        v = self.value(measures)
        if v is None:
            return False
        limit = self.threshold(q)
        return v > limit if self.upper else v < limit


def _key(name: str) -> Callable[[Measures], float | None]:
    def read(measures: Measures) -> float | None:
        return measures.get(name)

    return read


def _abs(name: str) -> Callable[[Measures], float | None]:
    def read(measures: Measures) -> float | None:
        v = measures.get(name)
        return None if v is None else abs(v)

    return read


def _eyes(measures: Measures) -> float | None:
    r, left = measures.get("eye_open_right"), measures.get("eye_open_left")
    return None if r is None or left is None else min(r, left)


def _lips(measures: Measures) -> float | None:
    # Lip colour says nothing in a black-and-white photo.
    if measures.get("face_chroma", 0.0) <= measures.get("_grey_chroma_max", 5.5):
        return None
    return measures.get("lip_contrast")


def _unless(flag: str, name: str) -> Callable[[Measures], float | None]:
    """Read ``name`` unless ``flag`` (set by :func:`decide`) says it cannot be judged.

    ``_bright``: an over-exposed face is too_bright, not glare. ``_thin``: too
    few pixels for detail cues; the resolution rule (face_too_small) speaks
    instead. ``_uneven``: under a strong side light the pose model places the
    shadowed shoulder badly (a level body read 28 deg); the light is the
    fault to fix first.
    """

    def read(measures: Measures) -> float | None:
        if measures.get(flag, 0.0) > 0:
            return None
        return measures.get(name)

    return read


RULES: tuple[Rule, ...] = (
    Rule("yaw", Reason.HEAD_POSE, "yaw_max", _abs("yaw"), True, False),
    Rule("roll", Reason.HEAD_POSE, "roll_max", _abs("roll"), True, False),
    Rule("pitch", Reason.HEAD_POSE, "pitch_max", _abs("pitch"), True, False),
    Rule("eyes", Reason.EYES_CLOSED, "eye_open_min", _eyes, False, True),
    Rule("mouth_open", Reason.MOUTH_OPEN, "mouth_open_max", _key("mouth_open"), True, True),
    Rule("mouth_width", Reason.EXPRESSION, "mouth_width_max", _key("mouth_width"), True, False),
    Rule("gaze", Reason.EXPRESSION, "gaze_max", _key("gaze"), True, False),
    Rule("brow_height", Reason.EXPRESSION, "brow_height_min", _key("brow_height"), False, True),
    Rule("brow_raise", Reason.EXPRESSION, "brow_raise_max", _key("brow_raise"), True, True),
    Rule("luminance_low", Reason.TOO_DARK, "luminance_min", _key("luminance"), False, False),
    Rule(
        "darker_half", Reason.TOO_DARK, "luminance_min", _key("darker_half_luminance"), False, False
    ),
    Rule("clipped_dark", Reason.TOO_DARK, "clipped_max", _key("clipped_dark"), True, False),
    Rule("luminance_high", Reason.TOO_BRIGHT, "luminance_max", _key("luminance"), True, False),
    Rule("clipped_bright", Reason.TOO_BRIGHT, "clipped_max", _key("clipped_bright"), True, False),
    Rule("sharpness", Reason.BLURRY, "sharpness_min", _unless("_thin", "sharpness"), False, True),
    Rule("blockiness", Reason.BLURRY, "blockiness_max", _key("blockiness"), True, False),
    Rule(
        "resolution",
        Reason.FACE_TOO_SMALL,
        "eye_distance_min_px",
        _key("eye_distance_px"),
        False,
        False,
    ),
    Rule("hand", Reason.OCCLUDED, "hand_cover_max", _key("hand_cover"), True, True, preview=False),
    Rule("lip_contrast", Reason.OCCLUDED, "lip_contrast_min", _lips, False, True),
    Rule(
        "eye_darkness",
        Reason.OCCLUDED,
        "eye_darkness_min",
        _unless("_thin", "eye_darkness"),
        False,
        True,
    ),
    Rule("glare", Reason.GLARE, "eye_glare_max", _unless("_bright", "eye_glare"), True, False),
    Rule(
        "skin_glare", Reason.GLARE, "skin_glare_max", _unless("_bright", "skin_glare"), True, False
    ),
    Rule(
        "uneven_light",
        Reason.UNEVEN_LIGHT,
        "light_asymmetry_max",
        _key("light_asymmetry"),
        True,
        False,
    ),
    Rule(
        "shoulders",
        Reason.SHOULDERS,
        "shoulder_tilt_max",
        _unless("_uneven", "shoulder_tilt"),
        True,
        False,
        preview=False,
    ),
    Rule(
        "clothing", Reason.CLOTHING, "clothing_delta_e_min", _key("clothing_delta_e"), False, False
    ),
)


def decide(measures: Measures, q: QualityConfig, rules: Iterable[Rule] = RULES) -> set[Reason]:
    """The codes the threshold rules give for these measures."""
    context = dict(measures)
    context["_grey_chroma_max"] = q.grey_chroma_max
    context["_bright"] = float(
        measures.get("luminance", 0.0) > q.luminance_max
        or measures.get("clipped_bright", 0.0) > q.clipped_max
    )
    context["_thin"] = float(measures.get("eye_distance_px", 1e9) < q.eye_distance_min_px)
    context["_uneven"] = float(measures.get("light_asymmetry", 0.0) > q.light_asymmetry_max)
    reasons = {rule.code for rule in rules if rule.refuses(context, q)}
    if measures.get("faces", 0.0) > 1:
        reasons.add(Reason.MULTIPLE_FACES)
    return reasons


# -- fitting thresholds to labelled photos ----------------------------------


@dataclass(frozen=True)
class Example:
    """One labelled photo's measures: accepted, or refused with the codes its label allows."""

    measures: Measures
    accept: bool
    expected: frozenset[Reason]
    cues: frozenset[str] = frozenset()  # rules whose cue the label says is present


def fit_threshold(rule: Rule, examples: Sequence[Example], q: QualityConfig) -> float:
    """The threshold in the gap between the accepted photos and those refused for ``rule.code``.

    The limit goes halfway between the most extreme accepted value and the
    nearest value beyond it of a photo whose label expects the rule's code.
    Without such a photo it sits beyond the accepted extreme by half the
    accepted group's interquartile range. Only the rule's own data decide:
    never a single photo's value, always the middle of a gap.
    """
    context_q = q
    accepted = _values(rule, [e for e in examples if e.accept], context_q)
    refused = _values(rule, [e for e in examples if rule.name in e.cues], context_q)
    if not accepted:
        return rule.threshold(q)
    sign = 1.0 if rule.upper else -1.0
    # Work in "higher is worse" terms.
    worst_ok = max(sign * v for v in accepted)
    beyond = sorted(sign * v for v in refused if sign * v > worst_ok)
    if beyond:
        limit = (worst_ok + beyond[0]) / 2
    else:
        ordered = sorted(sign * v for v in accepted)
        n = len(ordered)
        iqr = ordered[(3 * n) // 4 if n > 3 else n - 1] - ordered[n // 4]
        limit = worst_ok + max(iqr, 1e-6) / 2
    return sign * limit


def _values(rule: Rule, examples: Sequence[Example], q: QualityConfig) -> list[float]:
    out = []
    for e in examples:
        context = dict(e.measures)
        context["_grey_chroma_max"] = q.grey_chroma_max
        context["_thin"] = float(e.measures.get("eye_distance_px", 1e9) < q.eye_distance_min_px)
        v = rule.value(context)
        if v is not None:
            out.append(v)
    return out


def fit(
    examples: Sequence[Example], q: QualityConfig, rules: Iterable[Rule] = RULES
) -> QualityConfig:
    """A config whose fitted rules' thresholds come from ``examples`` only."""
    names = {f.name for f in fields(QualityConfig)}
    changes: dict[str, Any] = {}
    for rule in rules:
        if rule.fitted and rule.setting in names:
            changes[rule.setting] = fit_threshold(rule, examples, q)
    return replace(q, **changes)
