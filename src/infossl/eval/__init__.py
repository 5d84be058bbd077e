"""Evaluation of frozen encoders: kNN, linear probe, information diagnostics
(the diagnostics themselves live in :mod:`infossl.diagnostics`, below the methods
that report them).

- :mod:`infossl.eval.knn`: weighted kNN (chunked), top-1 / top-5.
- :mod:`infossl.eval.linear`: linear probe (L-BFGS or SGD) with weight decay chosen on held-out training data.
- :mod:`infossl.eval.features`: evaluation splits and cached features.
- :mod:`infossl.eval.evaluate`: all of it for one checkpoint (``infossl eval``).
"""

from infossl.eval.knn import extract_features, knn_accuracy, knn_evaluate, knn_predict
from infossl.eval.linear import ProbeConfig, linear_probe

__all__ = ["ProbeConfig", "extract_features", "knn_accuracy", "knn_evaluate", "knn_predict", "linear_probe"]
