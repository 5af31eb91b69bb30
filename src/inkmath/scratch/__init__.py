"""A deep-learning engine written from scratch in NumPy: layers with hand-written backward passes, SGD/Adam,
a Sequential model, safetensors save/load, training on SymbolDatasets, and a torch-free runtime for the registry
models' weights. Nothing here imports torch.

    from inkmath.scratch import create_numpy_model, train_numpy, load_weights_numpy
"""

from inkmath.scratch.layers import (BatchNorm, Conv2D, Dense, Dropout, Flatten, GlobalAvgPool, Layer,  # noqa: F401
                                    MaxPool2D, ReLU, SoftmaxCrossEntropy, log_softmax, no_grad,
                                    softmax)
from inkmath.scratch.model import ResidualBlock, Sequential, load_state  # noqa: F401
from inkmath.scratch.optim import SGD, Adam, make_optimizer  # noqa: F401
from inkmath.scratch.registry import create_numpy_model, list_numpy_models  # noqa: F401
from inkmath.scratch.interop import from_torch_state, load_weights_numpy  # noqa: F401
from inkmath.scratch.train import evaluate_numpy, train_numpy  # noqa: F401
