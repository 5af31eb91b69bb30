"""The model families: the seeds' baseline, a textbook MNIST CNN, and a compact residual network."""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from inkmath.models._registry import register_model


@register_model("seed-cnn", "the seeds' baseline: conv3x3x16 -> maxpool2 -> ReLU -> FC64 -> ReLU -> FC")
def seed_cnn(num_classes: int, in_size: int = 32) -> nn.Module:
    s = in_size // 2
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),  # (N, 16, H, W)
        nn.MaxPool2d(2),  # (N, 16, H/2, W/2)
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(16 * s * s, 64),
        nn.ReLU(),
        nn.Linear(64, num_classes),
    )


@register_model("mnist-cnn", "textbook CNN: two conv layers, max-pool, dropout; L2 through weight decay")
def mnist_cnn(num_classes: int, in_size: int = 28) -> nn.Module:
    s = (in_size - 4) // 2
    return nn.Sequential(
        nn.Conv2d(1, 32, 3),  # (N, 32, H-2, W-2)
        nn.ReLU(),
        nn.Conv2d(32, 64, 3),  # (N, 64, H-4, W-4)
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * s * s, 128),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, num_classes),
    )


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 strided) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class InkResNet(nn.Module):
    """Compact ResNet for 28-48 px symbols: down-sample early, spend FLOPs at 16x16 and below.

    stem conv 3x3 (1->w) at full resolution, max-pool to H/2, then three stages of basic blocks at H/2, H/4, H/8,
    global average pooling, dropout, linear.
    """

    def __init__(self, num_classes: int, widths=(32, 64, 128), depths=(1, 1, 1), dropout: float = 0.2):
        super().__init__()
        w0 = widths[0]
        self.stem = nn.Sequential(nn.Conv2d(1, w0, 3, 1, 1, bias=False), nn.BatchNorm2d(w0), nn.ReLU(), nn.MaxPool2d(2))
        blocks: list[nn.Module] = []
        cin = w0
        for i, (w, d) in enumerate(zip(widths, depths)):
            for j in range(d):
                blocks.append(BasicBlock(cin, w, stride=2 if (j == 0 and i > 0) else 1))
                cin = w
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)  # (N, w0, H/2, W/2)
        x = self.blocks(x)  # (N, w_last, H/8, W/8)
        x = x.mean(dim=(2, 3))  # (N, w_last)
        return self.fc(self.dropout(x))


@register_model("inkres", "compact residual network (3 stages 32/64/128, one block each)")
def inkres(num_classes: int, in_size: int = 32) -> nn.Module:
    return InkResNet(num_classes, widths=(32, 64, 128), depths=(1, 1, 1))


@register_model("inkres-l", "wider residual network (3 stages 48/96/192, 1/2/1 blocks) for the large vocabularies")
def inkres_l(num_classes: int, in_size: int = 32) -> nn.Module:
    return InkResNet(num_classes, widths=(48, 96, 192), depths=(1, 2, 1), dropout=0.3)


@register_model("inkres-m", "residual network (3 stages 32/96/192, one block each) for the 369-class HASYv2 model")
def inkres_m(num_classes: int, in_size: int = 32) -> nn.Module:
    return InkResNet(num_classes, widths=(32, 96, 192), depths=(1, 1, 1), dropout=0.3)


@register_model("inkres-s", "residual network (3 stages 24/64/128, one block each): the expression classifier, "
                            "under half the work of inkres-m for each candidate symbol")
def inkres_s(num_classes: int, in_size: int = 32) -> nn.Module:
    return InkResNet(num_classes, widths=(24, 64, 128), depths=(1, 1, 1), dropout=0.2)
