"""Named changes to a method's shipped recipe for the 2,000-step table (``cifar10_steps.py --variant``):
the generic ones, which apply to every method, and the variants of one method promoted from its proxy
screens. Plain data, so that the claims and the report read the promoted variants without torch."""

from __future__ import annotations

# benchmarks/plain_loop.py's optimizer, schedule and crop: SGD 0.06 at batch 256 (momentum 0.9),
# weight decay 5e-4, 3% warm-up then cosine to 0, crop 0.08-1 (infossl keeps biases and norms out of decay)
PLAIN_OPTIM = [
    "--model.optim.name", "sgd", "--model.optim.lr", "0.06", "--model.optim.weight_decay", "5e-4",
    "--model.optim.scale_lr_by_batch", "false", "--model.optim.warmup_fraction", "0.03", "--model.optim.min_lr_ratio", "0",
    "--data.augment.crop_scale", "[0.08, 1.0]",
]

# four 16 px local crops at 0.05-0.14 of the image beside the two global crops
LOCAL_CROPS = ["--data.augment.local_crops", "4", "--data.augment.local_image_size", "16", "--data.augment.local_crop_scale", "[0.05, 0.14]"]

#: named changes to a method's shipped recipe (extra ``infossl pretrain`` arguments)
VARIANTS: dict[str, list[str]] = {
    # the plain loop's recipe in infossl (the recipes issue's third row): its optimizer and crop, projector 512-128
    "plain_recipe": [*PLAIN_OPTIM, "--model.method.projector", "[512, 128]"],
    # the plain loop's optimizer and crop with the method's own loss and projector: the recipe that won
    # SimCLR's 2,000-step confirmation, given to every searched method (equal tuning effort)
    "plain_optim": PLAIN_OPTIM,
    # multi-crop as DINO scales it to CIFAR: two 32 px global crops at 0.14-1 and four 16 px local
    # crops at 0.05-0.14 (the same number of optimizer steps; cost per step reported separately)
    "multicrop": ["--data.augment.crop_scale", "[0.14, 1.0]", *LOCAL_CROPS],
    # the four local crops alone, the global crops at the recipe's own scale: separates what the local
    # crops do from what the global crops' scale does (DINO's recipe crops at 0.4-1, SimCLR's at 0.08-1)
    "local_crops": LOCAL_CROPS,
}

#: variants of one method, promoted from its proxy screens (benchmarks/screen.py, held-out images) to the
#: table's protocol: name -> (method, extra ``infossl pretrain`` arguments on its shipped recipe), in the
#: order the queue runs them (``steps_queue.sh promote``): the screens' promise first
PROMOTED: dict[str, tuple[str, list[str]]] = {
    # EntRec in DINO's host with a sharper teacher softmax (0.07, the student's 0.1): 50.44 against 48.36 for the
    # shipped recipe (lightly's host), where DINO's shipped recipe scores 51.40
    "teacher_t007": ("entrec_dino", ["--model.method.teacher_temperature", "0.07"]),
    # IMSVD's best screen (trial 12 with standardized logits at T 0.5: 50.96 against 50.72)
    "normalized_t05": ("imsvd", ["--model.method.normalize_logits", "true", "--model.method.temperature", "0.5"]),
    # EntRec's best screen: a 2,048-wide projector (trial 9's 1024-1024-256 widened: 54.20 against 54.04)
    "projector_2048": ("entrec", ["--model.method.projector", "[2048, 2048, 256]"]),
    # EMI's best screen that the shipped recipe can take (the others changed trial 10's LARS learning rate):
    # D = 128 in the fewest well-posed blocks (48.24 against 48.02 at D = 32 and 48.00 at D = 64)
    "d128_groups_auto": ("emi", ["--model.method.projector", "[2048, 2048, 128]", "--model.method.groups", "auto"]),
    # IMSVD's second: the fewest states (K = 8, K^2 <= N = 256, so that the redundancy term can reach its bound: 50.84)
    "k8": ("imsvd", ["--model.method.num_states", "8"]),
}


def variant_args(method: str, variant: str | None) -> list[str]:
    """The ``infossl pretrain`` arguments of ``variant`` (None: the shipped recipe) for ``method``."""
    if variant is None:
        return []
    if variant in PROMOTED:
        owner, args = PROMOTED[variant]
        if owner != method:
            raise ValueError(f"--variant {variant} is a variant of {owner}'s recipe, not {method}'s")
        return args
    return VARIANTS[variant]
