"""PyTorch's ``torch.nn.functional`` losses (and their ``torch.nn`` classes) by their own names.

losscli's own losses follow PyTorch, so most entries are the losscli loss itself; the differences
are the ``weight=`` of ``huber_loss`` and ``binary_cross_entropy[_with_logits]``, which divides the
weighted sum by the number of rows rather than by the sum of the weights, and ``kl_div``, whose
default ``reduction='mean'`` divides by rows x classes.
"""

from losscli.compat import PER_ROW, Arg, Entry, Profile

NONE = PER_ROW
MEAN_OR_SUM = Arg(
    "mean",
    values={
        "mean": {"reduction": "mean"},
        "sum": {"reduction": "sum", "sum_elements": True},
        "none": NONE,
    },
    kind=str,
    help="mean or sum",
)
# torch's weight= of these multiplies each element and the mean still divides by the count.
OVER_ROWS = Arg(
    "mean",
    values={
        "mean": {"reduction": "sum_over_rows"},
        "sum": {"reduction": "sum", "sum_elements": True},
        "none": NONE,
    },
    kind=str,
    help="mean (the weighted sum over the number of rows) or sum",
)


def _entry(loss: str, rule: str, *names: str, **args: Arg) -> Entry:
    return Entry(loss, rule, args={"reduction": MEAN_OR_SUM, **args}, names=names)


ENTRIES = {
    "l1_loss": _entry("mae", "mean |p - t|; weight= divides by sum(w)", "L1Loss"),
    "mse_loss": _entry("mse", "mean (p - t)^2; weight= divides by sum(w)", "MSELoss"),
    "huber_loss": Entry(
        "huber",
        "Huber with delta; weight= gives sum(w l) / N, not / sum(w)",
        args={"reduction": OVER_ROWS, "delta": Arg(1.0, to="delta", help="the threshold")},
        names=("HuberLoss",),
    ),
    "smooth_l1_loss": _entry(
        "smooth_l1", "= huber(delta=beta) / beta", "SmoothL1Loss", beta=Arg(1.0, to="beta")
    ),
    "binary_cross_entropy": Entry(
        "bce",
        "-[t log p + (1 - t) log(1 - p)], each log floored at -100; weight= gives sum(w l) / N",
        fixed={"input": "probs"},
        args={"reduction": OVER_ROWS},
        names=("BCELoss",),
    ),
    "binary_cross_entropy_with_logits": Entry(
        "bce",
        "the overflow-free logits form with pos_weight; weight= gives sum(w l) / N",
        fixed={"input": "logits"},
        args={"reduction": OVER_ROWS, "pos_weight": Arg(1.0, to="pos_weight", ge=0)},
        names=("BCEWithLogitsLoss",),
    ),
    "cross_entropy": _entry(
        "ce",
        "log-softmax of logits; class weights divide by the sum of w_y",
        "CrossEntropyLoss",
        weight=Arg(None, to="weight", kind=list, help="class weights"),
        ignore_index=Arg(-100, to="ignore_index", kind=int),
        label_smoothing=Arg(0.0, to="label_smoothing"),
    ),
    "nll_loss": _entry(
        "nll",
        "-w_y logprob_y over the sum of w_y",
        "NLLLoss",
        weight=Arg(None, to="weight", kind=list, help="class weights"),
        ignore_index=Arg(-100, to="ignore_index", kind=int),
    ),
    "kl_div": Entry(
        "kl_div",
        "pred is log q; sum t (log t - log q) over all elements, divided by rows x K for "
        "reduction='mean' (the default) and by rows for 'batchmean'; rows are not checked",
        fixed={"input": "logprobs", "rows": "as_given"},
        args={
            "reduction": Arg(
                "mean",
                kind=str,
                values={
                    "mean": {"reduction": "mean", "per_width": True},
                    "batchmean": {"reduction": "mean"},
                    "sum": {"reduction": "sum", "sum_elements": True},
                    "none": NONE,
                },
            ),
            "log_target": Arg(False, to="log_target", kind=bool),
        },
        names=("KLDivLoss",),
    ),
    "poisson_nll_loss": _entry(
        "poisson_nll",
        "log_input: exp(p) - t p; else p - t log(p + eps); full adds Stirling's term",
        "PoissonNLLLoss",
        log_input=Arg(True, to="log_input", kind=bool),
        full=Arg(False, to="full", kind=bool),
        eps=Arg(1e-8, to="eps"),
    ),
    "gaussian_nll_loss": _entry(
        "gaussian_nll",
        "0.5 (log max(var, eps) + (p - t)^2 / max(var, eps)); role var",
        "GaussianNLLLoss",
        full=Arg(False, to="full", kind=bool),
        eps=Arg(1e-6, to="eps"),
    ),
    "soft_margin_loss": _entry("soft_margin", "log(1 + exp(-y s))", "SoftMarginLoss"),
    "multilabel_soft_margin_loss": _entry(
        "multilabel_soft_margin",
        "mean over classes of the logistic loss",
        "MultiLabelSoftMarginLoss",
        weight=Arg(None, to="weight", kind=list, help="class weights"),
    ),
    "hinge_embedding_loss": _entry(
        "hinge_embedding",
        "y=1: x; y=-1: max(0, margin - x)",
        "HingeEmbeddingLoss",
        margin=Arg(1.0, to="margin"),
    ),
    "cosine_embedding_loss": _entry(
        "cosine_embedding",
        "roles x1, x2; y=1: 1 - cos; y=-1: max(0, cos - margin)",
        "CosineEmbeddingLoss",
        margin=Arg(0.0, to="margin"),
    ),
    "margin_ranking_loss": _entry(
        "margin_ranking",
        "roles x1, x2; max(0, -y (x1 - x2) + margin)",
        "MarginRankingLoss",
        margin=Arg(0.0, to="margin"),
    ),
    "triplet_margin_loss": _entry(
        "triplet",
        "max(0, ||a - p + eps||_p - ||a - n + eps||_p + margin)",
        "TripletMarginLoss",
        margin=Arg(1.0, to="margin"),
        p=Arg(2.0, to="p"),
        eps=Arg(1e-6, to="eps"),
        swap=Arg(False, to="swap", kind=bool),
    ),
    "multi_margin_loss": Entry(
        "multiclass_hinge",
        "sum over j != y of max(0, margin - s_y + s_j)^p / K",
        fixed={"variant": "weston_watkins"},
        args={
            "reduction": MEAN_OR_SUM,
            "p": Arg(1, to="power", kind=int),
            "margin": Arg(1.0, to="margin"),
        },
        names=("MultiMarginLoss",),
    ),
    "multilabel_margin_loss": Entry(
        "multilabel_margin",
        "target holds class indices padded with -1 (labels=indices)",
        fixed={"labels": "indices"},
        args={"reduction": MEAN_OR_SUM},
        names=("MultiLabelMarginLoss",),
    ),
    "cosine_similarity": Entry(
        "cosine",
        "the mean cosine similarity cos(p, t) = 1 - cosine, each norm floored at eps",
        args={"eps": Arg(1e-8, to="eps")},
        scale=-1.0,
        shift=1.0,
        names=("CosineSimilarity",),
    ),
}

PROFILE = Profile(
    name="torch",
    title="PyTorch",
    checked_with="torch 2.13",
    entries=ENTRIES,
    missing={
        "ctc_loss": "it aligns sequences, and a table row holds no sequence of log-probabilities",
        "triplet_margin_with_distance_loss": "its distance is a Python function",
        "pdist": "a distance matrix is no loss of a row",
    },
    weights="The weight column is the weight= of l1_loss and mse_loss (divided by sum(w)), "
    "of huber_loss and binary_cross_entropy[_with_logits] (sum(w l) / N); the other "
    "functions take no sample weight, and a weight column gives losscli's weighted mean "
    "sum(w l) / sum(w).",
)
