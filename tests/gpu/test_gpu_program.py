"""GPU: a hybrid program (TensorRT engines with a PyTorch stage between them) runs on the GPU
with CUDA tensors end to end, agrees with PyTorch there, and is timed against the fully
converted engine of the same model (the figures go to $TRTFORGE_GPU_REPORT_DIR when set)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.gpu

BATCHES = (1, 32)


def _models(torch: Any) -> tuple[Any, Any]:
    """ResNet18 with a custom op after layer2 (no converter: a program) and the same network
    with the op written in convertible ATen (one engine)."""
    torchvision = pytest.importorskip("torchvision")

    @torch.library.custom_op("trtforge_gpu::soft_clip", mutates_args=())
    def soft_clip(x: torch.Tensor, limit: float) -> torch.Tensor:
        return limit * torch.tanh(x / limit)

    @soft_clip.register_fake
    def _(x: torch.Tensor, limit: float) -> torch.Tensor:
        return torch.empty_like(x)

    class Clipped(torch.nn.Module):
        def __init__(self, net: Any, custom: bool) -> None:
            super().__init__()
            self.net, self.custom = net, custom

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n = self.net
            x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
            x = n.layer2(n.layer1(x))
            x = torch.ops.trtforge_gpu.soft_clip(x, 4.0) if self.custom else 4.0 * torch.tanh(x / 4.0)
            x = n.avgpool(n.layer4(n.layer3(x)))
            return n.fc(torch.flatten(x, 1))

    torch.manual_seed(0)
    base = torchvision.models.resnet18(weights=None).eval()
    return Clipped(base, True).eval(), Clipped(base, False).eval()


def test_program_runs_on_the_gpu_and_is_timed_against_the_full_engine(torch_cuda: Any) -> None:
    import trtforge
    from trtforge import InputSpec
    from trtforge.program import Program

    torch = torch_cuda
    hybrid_model, plain_model = _models(torch)
    spec = InputSpec("x", min=(1, 3, 224, 224), opt=(32, 3, 224, 224), max=(32, 3, 224, 224))
    level = int(os.environ.get("TRTFORGE_GPU_OPT_LEVEL", "3"))
    program = trtforge.convert(hybrid_model, backend="torch2trt", precision="fp16", inputs=[spec],
                               cache=False, optimization_level=level)
    engine = trtforge.convert(plain_model, backend="torch2trt", precision="fp16", inputs=[spec],
                              cache=False, optimization_level=level)
    assert isinstance(program, Program) and not isinstance(engine, Program)
    assert [s.kind for s in program.stages] == ["tensorrt", "torch.export", "tensorrt"]

    x = torch.randn(8, 3, 224, 224, generator=torch.Generator().manual_seed(1)).cuda()
    with torch.no_grad():
        expected = plain_model.cuda()(x).float()
        hybrid_model.cuda()
    got = program.run({"x": x}, device="gpu")
    out = next(iter(got.values()))
    assert out.is_cuda, "program outputs stay on the GPU for CUDA inputs"
    cosine = torch.nn.functional.cosine_similarity(out.flatten(), expected.flatten(), dim=0).item()
    top1 = (out.argmax(1) == expected.argmax(1)).float().mean().item()
    assert cosine > 0.999 and top1 >= 0.99, (cosine, top1)

    figures: dict[str, Any] = {"model": "resnet18 + custom op after layer2", "precision": "fp16",
                               "stages": [s.kind for s in program.stages], "cosine": cosine}
    for batch in BATCHES:
        timed = program.benchmark(batch_size=batch, iterations=100, warmup=10)
        full = engine.benchmark(batch_size=batch, iterations=100, warmup=10)
        program_ms, engine_ms = timed["latency_median"] * 1e3, full["latency_median"] * 1e3
        figures[f"bs{batch}"] = {"program_ms_p50": program_ms, "engine_ms_p50": engine_ms,
                                 "program_over_engine": program_ms / engine_ms,
                                 "program_stages_ms": timed["stages"]}
    print(json.dumps(figures, indent=2))
    folder = os.environ.get("TRTFORGE_GPU_REPORT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "program_vs_engine.json").write_text(json.dumps(figures, indent=2) + "\n")
