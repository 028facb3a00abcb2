"""Pure NumPy loss functions and the one registry that describes them."""

from losscli.losses import (  # noqa: F401  (importing a family registers its losses)
    classification,
    detection,
    embedding,
    face,
    generative,
    regression,
    segmentation,
)
from losscli.losses.registry import REGISTRY, LossDef, get_loss
from losscli.losses.spec import LossRequest, build_request, parse_specs

__all__ = ["REGISTRY", "LossDef", "LossRequest", "build_request", "get_loss", "parse_specs"]
