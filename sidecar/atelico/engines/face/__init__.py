"""Audio to ARKit-52 face weights: phones to visemes with coarticulation, characters as data."""

from atelico.engines.face.export import face_to_json, plot_face_curves
from atelico.engines.face.model import (FaceEngine, FaceStream, FaceTrack, TtsFace, frame_count,
                                        load)

__all__ = ["FaceEngine", "FaceStream", "FaceTrack", "face_to_json", "frame_count", "load",
           "plot_face_curves", "TtsFace"]
