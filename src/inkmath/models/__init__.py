"""Model registry: every model maps (N, 1, H, W) float32 in [0, 1] to logits (N, C).

    create_model("inkres", num_classes=369, in_size=32)
    list_models()
"""

from inkmath.models._registry import create_model, list_models, register_model, count_parameters  # noqa: F401
from inkmath.models import cnn  # noqa: F401,E402  (registers the models)
