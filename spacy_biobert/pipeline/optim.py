"""Parameter updates shared by the trainable heads."""
from typing import Optional, Set

from thinc.api import Model, Optimizer


def finish_update_scaled(model: Model, sgd: Optimizer, lr_scale: float, scaled: Optional[Set[int]] = None) -> None:
    """Like ``Model.finish_update``, but thinc parameters get ``lr_scale`` times the optimizer's rate.

    Args:
        model: the component's model; shims (e.g. an inline transformer) are updated at the normal rate.
        sgd: the optimizer.
        lr_scale: learning-rate multiplier.
        scaled: ids of the nodes to scale (default: every node of ``model``).
    """
    for node in model.walk():
        for shim in node.shims:
            shim.finish_update(sgd)
    for node in model.walk():
        scale = lr_scale if scaled is None or node.id in scaled else 1.0
        for name in node.param_names:
            if node.has_grad(name):
                param, _ = sgd((node.id, name), node.get_param(name), node.get_grad(name), lr_scale=scale)
                node.set_param(name, param)
