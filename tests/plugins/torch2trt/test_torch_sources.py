"""CLI model sources: torchvision names and Python files become torch-module sources."""
from __future__ import annotations

from pathlib import Path

import pytest

from trtforge.errors import ModelSourceError
from trtforge.models.sources import detect


def test_torchvision_name_loads_a_module() -> None:
    source = detect("torchvision:squeezenet1_1")
    assert source.kind == "torch-module" and source.extra["loaded_from"]["kind"] == "torchvision-name"


def test_unknown_torchvision_name_suggests_names() -> None:
    with pytest.raises(ModelSourceError, match="no model named"):
        detect("torchvision:resnet5")


def test_python_file_with_attribute_and_without(tmp_path: Path) -> None:
    file = tmp_path / "net.py"
    file.write_text("import torch\nclass Net(torch.nn.Module):\n    def forward(self, x):\n"
                    "        return x * 2\nmodel = Net()\n")
    assert detect(f"{file}:Net").kind == "torch-module"
    assert detect(str(file)).kind == "torch-module"  # the one module instance
    assert detect(file).kind == "torch-module"  # a Path
    with pytest.raises(ModelSourceError, match="no attribute"):
        detect(f"{file}:Missing")


def test_cli_converts_a_python_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    file = tmp_path / "lin.py"
    file.write_text("import torch\ndef get_model():\n    return torch.nn.Linear(4, 2)\n")
    result = subprocess.run([sys.executable, "-m", "trtforge", "convert", str(file), "-b", "torch2trt",
                             "-i", "x:1x4,2x4,8x4", "-t", "sm89", "--no-cache"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "via torch2trt" in result.stdout
