"""``infossl export CHECKPOINT OUT``: backbone weights as a state_dict and as safetensors."""

from __future__ import annotations

from pathlib import Path

import torch

from infossl.encoder import backbone_state_dict, read_checkpoint


def export(checkpoint: str, out: str) -> tuple[Path, Path]:
    """Write OUT.pt (torch state_dict) and OUT.safetensors; return both paths."""
    from safetensors.torch import save_file

    ckpt = read_checkpoint(checkpoint)
    state = {k: v.contiguous() for k, v in backbone_state_dict(ckpt).items()}
    base = Path(out)
    base = base.with_suffix("") if base.suffix in (".pt", ".pth", ".safetensors") else base
    base.parent.mkdir(parents=True, exist_ok=True)
    pt_path, st_path = base.with_suffix(".pt"), base.with_suffix(".safetensors")
    torch.save(state, pt_path)
    info = ckpt["infossl"]
    save_file(state, str(st_path), metadata={"backbone": str(info["backbone"]), "method": info["method"]})
    return pt_path, st_path
