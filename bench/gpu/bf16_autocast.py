"""Make CUDA autocast compute in bfloat16 instead of float16 (imported by ``spacy train --code`` for --precision bf16).

spacy-transformers' ``mixed_precision = true`` enters ``torch.autocast("cuda")`` with no dtype, which takes
``torch.get_autocast_dtype("cuda")`` (float16 by default); setting it here switches every such region to bfloat16.
The gradient scaler stays as configured: harmless with bfloat16, whose range is fp32's.
"""
import torch

torch.set_autocast_dtype("cuda", torch.bfloat16)
