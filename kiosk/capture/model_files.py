"""The model files the Tasks-API path ships, and how they are made from the 0.10.18 wheel.

Why: mediapipe 1.2.x (the only release with wheels for Python 3.13, so for
Raspberry Pi OS Trixie) has only the Tasks API and ships no models, and the
kiosk must not download anything at run time. The models of mediapipe
0.10.18 are Apache-2.0 and are the very networks the ``solutions`` path
runs, so the Tasks path uses them too and both paths judge alike.

The Tasks graphs need two things the 0.10.18 files lack: input normalisation
metadata (hand and pose models) and a ``.task`` bundle (an uncompressed zip
of a detector and a landmark model). :func:`build` adds both, using
0.10.18's own metadata writer, and writes ``kiosk/assets/models``::

    .venv/bin/python -m kiosk.capture.model_files     # with mediapipe 0.10.18

It is run once by a developer; the files are committed beside their licence
and the list in ``kiosk/assets/models/README.md`` (source path in the wheel,
SHA-256, what was changed).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

MODELS = Path(__file__).resolve().parent.parent / "assets" / "models"


@dataclass(frozen=True)
class Source:
    """One network in the 0.10.18 wheel and how its input is scaled (mean, std on 0-255)."""

    path: str  # inside the mediapipe package
    mean: float
    std: float


# MediaPipe's own graphs feed these models [0, 1] (mean 0, std 255) or
# [-1, 1] (mean and std 127.5) input; the Tasks graphs read it from metadata.
PALM = Source("modules/palm_detection/palm_detection_lite.tflite", 0.0, 255.0)
HAND = Source("modules/hand_landmark/hand_landmark_lite.tflite", 0.0, 255.0)
POSE_DETECTOR = Source("modules/pose_detection/pose_detection.tflite", 127.5, 127.5)
POSE = Source("modules/pose_landmark/pose_landmark_full.tflite", 0.0, 255.0)

# Files copied as they are (their metadata already serves the Tasks graphs,
# or LiteRT runs them directly). The mesh is the plain 468-point model plus
# the iris model, not 0.10.18's attention mesh: that one needs MediaPipe's
# own custom TFLite ops (Landmarks2TransformMatrix, TransformTensorBilinear),
# which neither LiteRT nor the Tasks face landmarker provides.
COPIED = {
    "face_detector_full_range.tflite": "modules/face_detection/face_detection_full_range_sparse.tflite",
    "face_detector_short_range.tflite": "modules/face_detection/face_detection_short_range.tflite",
    "face_landmarks.tflite": "modules/face_landmark/face_landmark.tflite",
    "iris_landmarks.tflite": "modules/iris_landmark/iris_landmark.tflite",
    "selfie_segmenter.tflite": "modules/selfie_segmentation/selfie_segmentation.tflite",
}
BUNDLES = {
    "hand_landmarker.task": {"hand_detector.tflite": PALM, "hand_landmarks_detector.tflite": HAND},
    "pose_landmarker.task": {
        "pose_detector.tflite": POSE_DETECTOR,
        "pose_landmarks_detector.tflite": POSE,
    },
}


def _with_normalisation(model: bytes, source: Source) -> bytes:
    from mediapipe.tasks.metadata import schema_py_generated as schema
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    graph = schema.Model.GetRootAsModel(model, 0).Subgraphs(0)
    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(Path(source.path).stem)
    writer.add_image_input([source.mean], [source.std])
    for i in range(graph.OutputsLength()):
        writer.add_feature_output(name=graph.Tensors(graph.Outputs(i)).Name().decode())
    out, _ = writer.populate()
    return bytes(out)


def _bundle(members: dict[str, bytes]) -> bytes:
    """A .task file: the Tasks runtime maps it, so the zip must be stored, not deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue()


def build(out: Path = MODELS) -> list[tuple[str, str, str]]:
    """Write the model files; return (file, source, sha256) for each."""
    import mediapipe

    root = Path(mediapipe.__file__).parent
    version = getattr(mediapipe, "__version__", "")
    if not (root / COPIED["iris_landmarks.tflite"]).exists():
        raise SystemExit(f"mediapipe {version} carries no models: run this with 0.10.18")
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for name, rel in COPIED.items():
        shutil.copyfile(root / rel, out / name)
        made.append((name, rel, _sha256(out / name)))
    for name, members in BUNDLES.items():
        data = _bundle(
            {
                arc: _with_normalisation((root / src.path).read_bytes(), src)
                for arc, src in members.items()
            }
        )
        (out / name).write_bytes(data)
        made.append((name, " + ".join(s.path for s in members.values()), _sha256(out / name)))
    licence = root.parent / f"mediapipe-{version}.dist-info" / "LICENSE"
    if licence.exists():
        shutil.copyfile(licence, out / "LICENSE")
    return made


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    for name, source, digest in build():
        print(f"{name}  {digest[:16]}  {source}")
    sys.exit(0)
