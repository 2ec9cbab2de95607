"""An example of your own model for `model.arch: module` (models/README.md)."""
from torch import nn


class SmallCNN(nn.Module):
    """Two 3x3 convolutions of 8 and 16 filters ("same" padding, ReLU, 2x2 max-pool each), then
    a linear layer to the classes: for small images such as digits' 1x8x8."""

    def __init__(self, input_shape, classes):
        super().__init__()
        channels, height, width = input_shape
        self.features = nn.Sequential(
            nn.Conv2d(channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Linear(16 * (height // 4) * (width // 4), classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))
