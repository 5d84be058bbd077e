"""Multi-crop: two global views plus local crops of their own size, batched per size through
the backbone, and each method family's pair rule."""

from __future__ import annotations

import math

import lightning as L
import pytest
import torch

from infossl.data import SSLDataModule, SyntheticConfig
from infossl.data.augment import AugmentConfig, MultiViewAugment
from infossl.errors import InputError
from infossl.methods import BYOL, DINO, EntRecDINO, IMSVD, SimCLR
from infossl.methods.base import average_outputs, encode_views, joint_pairs, teacher_pairs
from infossl.models import BackboneSpec
from infossl.models.backbones import build_backbone
from infossl.training import SSLModule


class CountingBackbone(torch.nn.Module):
    def __init__(self, backbone: torch.nn.Module) -> None:
        super().__init__()
        self.backbone, self.calls = backbone, []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(x.shape))
        return self.backbone(x)


def multicrop_views(n: int = 4, local: int = 4) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randn(n, 3, 32, 32, generator=g) for _ in range(2)] + [torch.randn(n, 3, 16, 16, generator=g) for _ in range(local)]


def test_the_augmentation_makes_two_global_views_and_the_local_crops_at_their_size() -> None:
    config = AugmentConfig(local_crops=4, local_crop_scale=(0.05, 0.3))
    views = MultiViewAugment(config, 32, seed=0)(torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8))
    assert [tuple(v.shape) for v in views] == [(5, 3, 32, 32)] * 2 + [(5, 3, 16, 16)] * 4  # half size by default
    sized = AugmentConfig(local_crops=2, local_image_size=12).sized_views(32)
    assert [size for _, size in sized] == [32, 32, 12, 12] and sized[2][0].crop_scale == (0.05, 0.14)
    with pytest.raises(InputError, match="local_crops"):
        AugmentConfig(local_crops=-1).sized_views(32)


def test_local_crops_of_one_size_go_through_the_backbone_in_one_call() -> None:
    backbone, _ = build_backbone(BackboneSpec(name="convnet", widths=(4, 8, 8, 8)))
    counting = CountingBackbone(backbone)
    features = encode_views(counting, multicrop_views())
    assert counting.calls == [(4, 3, 32, 32), (4, 3, 32, 32), (16, 3, 16, 16)]
    assert len(features) == 6 and all(f.shape[0] == 4 for f in features)
    counting.calls.clear()
    encode_views(counting, multicrop_views(local=0))
    assert counting.calls == [(4, 3, 32, 32)] * 2  # two views: one call per view, as always


def test_the_pair_rules() -> None:
    assert joint_pairs(2) == [(0, 1)] and teacher_pairs(2) == [(1, 0), (0, 1)]
    assert joint_pairs(4) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3)]
    assert teacher_pairs(4) == [(1, 0), (0, 1), (0, 2), (1, 2), (0, 3), (1, 3)]


def built(method):
    torch.manual_seed(0)
    backbone, dim = build_backbone(BackboneSpec(name="convnet", widths=(4, 8, 8, 8)))
    method.build(backbone, dim)
    return backbone, method


def test_a_joint_embedding_method_averages_global_to_any_view_pairs() -> None:
    backbone, method = built(SimCLR(projector=(16, 8)))
    views = multicrop_views()
    out, _ = method.training_loss(backbone, views)
    z = [method.projector(f) for f in encode_views(backbone, views)]
    expected = average_outputs([method.loss(z[i], z[j]) for i, j in joint_pairs(6)])
    torch.testing.assert_close(out.loss, expected.loss)
    assert len(joint_pairs(6)) == 9


def test_a_teacher_student_method_feeds_only_global_views_to_the_teacher() -> None:
    backbone, method = built(BYOL(projector=(16, 8), predictor=(16, 8)))
    method.teacher_backbone = CountingBackbone(method.teacher_backbone)
    views = multicrop_views()
    out, _ = method.training_loss(backbone, views)
    assert method.teacher_backbone.calls == [(4, 3, 32, 32)] * 2
    p = [method.predictor(method.projector(f)) for f in encode_views(backbone, views)]
    with torch.no_grad():
        t = [method.teacher_projector(method.teacher_backbone(v)) for v in views[:2]]
    expected = average_outputs([method.loss(p[j], t[i]) for i, j in teacher_pairs(6)])
    torch.testing.assert_close(out.loss, expected.loss)


@pytest.mark.parametrize("make", [lambda: DINO(projector=(16, 8), prototypes=32), lambda: EntRecDINO(projector=(16, 8), prototypes=32),
                                  lambda: IMSVD(projector=(16, 16), num_states=4)], ids=["dino", "entrec_dino", "imsvd"])
def test_two_training_steps_with_two_global_and_four_local_views(make) -> None:
    L.seed_everything(0)
    model = SSLModule(make(), BackboneSpec(widths=(8, 8, 8, 8)))
    data = SSLDataModule(batch_size=16, synthetic=SyntheticConfig(train_size=64, test_size=32),
                         augment=AugmentConfig(local_crops=4))
    trainer = L.Trainer(accelerator="cpu", max_steps=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, use_distributed_sampler=False)
    trainer.fit(model, datamodule=data)
    assert trainer.global_step == 2 and math.isfinite(trainer.callback_metrics["train/loss"].item())
