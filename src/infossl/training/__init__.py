"""Training: the Lightning module, optimizers and monitor callbacks."""

from infossl.training.callbacks import (
    DiagnosticsMonitor,
    KNNMonitor,
    OnlineLinearProbe,
    evaluate_knn,
)
from infossl.training.module import CHECKPOINT_FORMAT_VERSION, SSLModule
from infossl.training.optim import OptimConfig

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "DiagnosticsMonitor",
    "KNNMonitor", "OnlineLinearProbe", "OptimConfig", "SSLModule", "evaluate_knn"]
