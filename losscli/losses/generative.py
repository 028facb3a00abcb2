"""GAN and reconstruction terms: discriminator outputs on real and generated samples, autoencoders.

``gan_d`` reads the discriminator's outputs on real samples (role ``real``) and on generated ones
(role ``fake``); ``gan_g`` reads ``fake`` only. Both are per-row values averaged over rows, so a
file of discriminator outputs gives the loss of the batch or epoch it came from.
"""

from __future__ import annotations

import math

import numpy as np

from losscli.losses.probability import LOSSES, binary_logs, binary_nll, in_unit, input_param
from losscli.losses.registry import Example, Param, Requirement, register

FAMILY = "generative"
HAND = "hand-worked"
LOG_2 = math.log(2.0)

LOG_MODES = ("standard", "nonsaturating", "minimax")


def _probabilities(role: str) -> Requirement:
    """D's outputs are probabilities when a log-based mode reads them with input=probs."""
    return Requirement(
        role,
        lambda v, params: (
            params["mode"] not in LOG_MODES or params["input"] != "probs" or in_unit(v)
        ),
        "to be probabilities in [0, 1] (input=probs)",
        "these look like logits: add input=logits (e.g. " + LOSSES + " {loss}:input=logits)",
    )


INPUT_NOTE = (
    "input=probs (default) or logits applies to the log-based modes; the others read D's raw "
    "output as given. With logits the logs are taken as softplus, so outputs of +-1e4 stay finite."
)


@register(
    name="gan_d",
    family=FAMILY,
    formula="standard: -[log D(x) + log(1 - D(G(z)))]; lsgan: 0.5 [(D(x) - 1)^2 + D(G(z))^2]; "
    "hinge: max(0, 1 - D(x)) + max(0, 1 + D(G(z))); wasserstein: D(G(z)) - D(x)",
    reference="Goodfellow et al. 2014; Mao et al. 2017 (LSGAN); Lim & Ye 2017 (hinge); "
    "Arjovsky et al. 2017 (WGAN critic)",
    params=[
        Param(
            "mode",
            str,
            "standard",
            "the discriminator's objective",
            choices=("standard", "lsgan", "hinge", "wasserstein"),
        ),
        input_param("probs", ("probs", "logits"), holds="D's output"),
    ],
    requires=[_probabilities("real"), _probabilities("fake")],
    examples=[
        Example({"real": [0.5], "fake": [0.5]}, 2 * LOG_2, HAND),
        Example({"real": [0.0], "fake": [0.0]}, 2 * LOG_2, HAND, {"input": "logits"}),
        Example({"real": [2.0, 0.5], "fake": [-1.5, 0.5]}, (0 + 2.0) / 2, HAND, {"mode": "hinge"}),
        Example({"real": [3.0], "fake": [1.0]}, -2.0, HAND, {"mode": "wasserstein"}),
    ],
    notes="Roles real and fake: D's outputs on real samples x and on generated ones G(z) "
    "(--col real=COLUMN --col fake=COLUMN, or columns named real and fake), paired row by row. "
    "Lower is better for the discriminator. " + INPUT_NOTE,
)
def discriminator_loss(real, fake, *, mode, input):
    """The discriminator's (or critic's) loss on paired real and generated samples."""
    if mode == "standard":
        log_real, _ = binary_logs(real, input)
        _, log_not_fake = binary_logs(fake, input)
        return -(log_real + log_not_fake)
    if mode == "lsgan":
        return 0.5 * ((real - 1.0) ** 2 + fake**2)
    if mode == "hinge":
        return np.maximum(0.0, 1.0 - real) + np.maximum(0.0, 1.0 + fake)
    return fake - real


@register(
    name="gan_g",
    family=FAMILY,
    formula="nonsaturating: -log D(G(z)); minimax: log(1 - D(G(z))); "
    "lsgan: 0.5 (D(G(z)) - 1)^2; hinge, wasserstein: -D(G(z))",
    reference="Goodfellow et al. 2014; Mao et al. 2017 (LSGAN); Miyato et al. 2018 (hinge)",
    params=[
        Param(
            "mode",
            str,
            "nonsaturating",
            "the generator's objective",
            choices=("nonsaturating", "minimax", "lsgan", "hinge", "wasserstein"),
        ),
        input_param("probs", ("probs", "logits"), holds="D's output"),
    ],
    requires=[_probabilities("fake")],
    examples=[
        Example({"fake": [0.25]}, math.log(4), HAND),
        Example({"fake": [0.25]}, math.log(0.75), HAND, {"mode": "minimax"}),
        Example({"fake": [0.0]}, -LOG_2, HAND, {"mode": "minimax", "input": "logits"}),
        Example({"fake": [0.5]}, 0.125, HAND, {"mode": "lsgan"}),
    ],
    notes="Role fake: D's outputs on generated samples. minimax is the original zero-sum "
    "objective the generator minimises (it is negative); nonsaturating is the form used in "
    "practice. " + INPUT_NOTE,
)
def generator_loss(fake, *, mode, input):
    """The generator's loss given the discriminator's outputs on generated samples."""
    if mode == "nonsaturating":
        return -binary_logs(fake, input)[0]
    if mode == "minimax":
        return binary_logs(fake, input)[1]
    if mode == "lsgan":
        return 0.5 * (fake - 1.0) ** 2
    return -fake


@register(
    name="reconstruction",
    aliases=("recon",),
    family=FAMILY,
    elementwise=True,
    formula="per row: mean (features=mean) or sum (features=sum) over features of (p - t)^2, "
    "|p - t| or bce(p, t)",
    reference="autoencoder / VAE reconstruction term; torch MSELoss / L1Loss / BCELoss per element",
    params=[
        Param("kind", str, "mse", "mse, mae or bce per feature", choices=("mse", "mae", "bce")),
        Param(
            "features", str, "mean", "mean or sum over a row's features", choices=("mean", "sum")
        ),
        input_param("probs", ("probs", "logits"), holds="pred with kind=bce"),
    ],
    requires=[
        Requirement(
            "pred",
            lambda v, params: params["kind"] != "bce" or params["input"] != "probs" or in_unit(v),
            "to be probabilities in [0, 1] (kind=bce)",
            "these look like logits: add input=logits",
        ),
        Requirement(
            "target",
            lambda v, params: params["kind"] != "bce" or in_unit(v),
            "in [0, 1] (kind=bce)",
            "binary cross-entropy needs targets between 0 and 1; use kind=mse otherwise",
        ),
    ],
    examples=[
        Example({"pred": [[1.0, 2.0], [0.0, 0.0]], "target": [[0.0, 0.0], [0.0, 3.0]]}, 3.5, HAND),
        Example(
            {"pred": [[1.0, 2.0], [0.0, 0.0]], "target": [[0.0, 0.0], [0.0, 3.0]]},
            7.0,
            HAND,
            {"features": "sum"},
        ),
    ],
    notes="pred and target hold F features per row (column groups or list columns). "
    "features=sum gives the per-sample sum used in VAE objectives (the ELBO's reconstruction "
    "term with a Gaussian or Bernoulli decoder, up to constants); features=mean equals torch's "
    "elementwise mean. kind=bce reads probabilities, or logits with input=logits.",
)
def reconstruction(pred, target, *, kind, features, input):
    """Reconstruction error of each sample over its features."""
    if kind == "mse":
        errors = (pred - target) ** 2
    elif kind == "mae":
        errors = np.abs(pred - target)
    else:
        log_p, log_not_p = binary_logs(pred, input)
        errors = binary_nll(target, log_p, log_not_p)
    if errors.ndim == 1:
        return errors
    return errors.sum(axis=1) if features == "sum" else errors.mean(axis=1)
