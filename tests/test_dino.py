"""DINO's host: the view pairs, the EMA teacher, the centre, the teacher temperature's
warm-up and the frozen last layer, step by step against their formulas."""

from __future__ import annotations

import pytest
import torch

from infossl.losses import DINOLoss, EntRecDiscreteLoss
from infossl.methods import DINO, EntRecDINO
from infossl.methods.base import cosine_momentum, encode_views
from infossl.models.backbones import BackboneSpec, build_backbone


def built(method):
    torch.manual_seed(0)
    backbone, dim = build_backbone(BackboneSpec(name="convnet", widths=(4, 8, 8, 8)))
    method.build(backbone, dim)
    return backbone, method


def views(count: int, n: int = 6) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return [torch.randn(n, 3, 16, 16, generator=g) for _ in range(count)]


@pytest.mark.parametrize("count", [2, 6])
def test_the_loss_averages_teacher_global_view_student_other_view_pairs(count: int) -> None:
    backbone, method = built(DINO(projector=(16, 8), prototypes=12))
    batch = views(count)
    centre = method.loss.center.clone()
    out, _ = method.training_loss(backbone, batch)
    student = [method.projector(f) for f in encode_views(backbone, batch)]
    with torch.no_grad():
        teacher = [method.teacher_head(method.teacher_backbone(v)) for v in batch[:2]]
    reference = DINOLoss(prototypes=12, teacher_temperature=0.07)
    reference.center.copy_(centre)
    reference.current_teacher_temperature = method.loss.current_teacher_temperature
    pairs = [(i, j) for i in range(2) for j in range(count) if i != j]
    assert len(pairs) == 2 * count - 2  # with two views: the two cross pairs
    expected = torch.stack([reference(student[j], teacher[i]).loss for i, j in pairs]).mean()
    torch.testing.assert_close(out.loss, expected)


def test_the_centre_and_the_ema_teacher_follow_their_formulas_step_by_step() -> None:
    backbone, method = built(DINO(projector=(16, 8), prototypes=12, base_momentum=0.9))
    optimizer = torch.optim.SGD([*backbone.parameters(), *method.parameters()], lr=0.5)
    for step, progress in enumerate([0.0, 0.25, 0.5]):
        batch = views(2)
        centre = method.loss.center.clone()
        with torch.no_grad():
            teacher = torch.cat([method.teacher_head(method.teacher_backbone(v)) for v in batch])
        method.on_step_start(progress)
        out, _ = method.training_loss(backbone, batch)
        # centre <- 0.9 centre + 0.1 * mean of the teacher's logits over both global views
        torch.testing.assert_close(method.loss.center, 0.9 * centre + 0.1 * teacher.mean(dim=0, keepdim=True))
        optimizer.zero_grad()
        out.loss.backward()
        method.on_after_backward()
        optimizer.step()
        teacher_before = [p.clone() for p in method.teacher_head.parameters()]
        logs = method.on_step_end(backbone, progress)
        tau = cosine_momentum(0.9, progress)
        assert logs["ema_momentum"] == pytest.approx(tau)
        for online, old, new in zip(method.projector.parameters(), teacher_before, method.teacher_head.parameters()):
            torch.testing.assert_close(new, tau * old + (1 - tau) * online.detach(), msg=f"step {step}")


def test_the_teacher_temperature_warms_up_linearly() -> None:
    _, method = built(DINO(projector=(16, 8), prototypes=12, warmup_teacher_temperature=0.04,
                           teacher_temperature_warmup_fraction=0.4, teacher_temperature=0.07))
    for progress, expected in [(0.0, 0.04), (0.2, 0.055), (0.4, 0.07), (0.9, 0.07)]:
        method.on_step_start(progress)
        assert method.loss.current_teacher_temperature == pytest.approx(expected)


@pytest.mark.parametrize("cls", [DINO, EntRecDINO])
def test_the_last_layer_is_frozen_for_the_first_share_of_training(cls) -> None:
    backbone, method = built(cls(projector=(16, 8), prototypes=12, freeze_last_layer_fraction=0.1))
    last = method.projector.last_layer.parametrizations.weight.original1
    for progress, frozen in [(0.05, True), (0.1, False)]:
        method.on_step_start(progress)
        out, _ = method.training_loss(backbone, views(2))
        method.zero_grad()
        out.loss.backward()
        method.on_after_backward()
        assert (last.grad is None) == frozen
        assert method.projector.mlp[0].weight.grad is not None


@pytest.mark.parametrize("teacher_temperature", [None, 0.05])
def test_entrec_dino_scores_student_and_teacher_softmax(teacher_temperature) -> None:
    """One temperature for both (the paper), or the teacher's own when it is set."""
    backbone, method = built(EntRecDINO(projector=(16, 8), prototypes=12, temperature=0.2, teacher_temperature=teacher_temperature))
    batch = views(2)
    out, _ = method.training_loss(backbone, batch)
    s = [torch.softmax(method.projector(backbone(v)) / 0.2, dim=1) for v in batch]
    with torch.no_grad():
        t = [torch.softmax(method.teacher_head(method.teacher_backbone(v)) / (teacher_temperature or 0.2), dim=1) for v in batch]
    loss = EntRecDiscreteLoss()
    torch.testing.assert_close(out.loss, (loss(s[1], t[0]).loss + loss(s[0], t[1]).loss) / 2)
    if teacher_temperature is not None:  # the sharper target changes the value
        one = [torch.softmax(method.teacher_head(method.teacher_backbone(v)).detach() / 0.2, dim=1) for v in batch]
        assert not torch.allclose(out.loss, (loss(s[1], one[0]).loss + loss(s[0], one[1]).loss) / 2)


def test_fewer_than_two_views_raise() -> None:
    backbone, method = built(DINO(projector=(16, 8), prototypes=12))
    with pytest.raises(ValueError, match="at least 2 views"):
        method.training_loss(backbone, views(1))


def test_batch_norm_in_the_head_is_an_option() -> None:
    from infossl.models.heads import GlobalBatchNorm1d

    plain = built(DINO(projector=(16, 16, 8), prototypes=12))[1]
    normed = built(DINO(projector=(16, 16, 8), prototypes=12, head_batch_norm=True))[1]
    count = lambda head: sum(isinstance(m, GlobalBatchNorm1d) for m in head.modules())  # noqa: E731
    assert count(plain.projector) == 0 and count(normed.projector) == count(normed.teacher_head) == 2
