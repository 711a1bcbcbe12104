"""Writes the GPT-2 cases that `examples/gpt2` is checked on, into tests/data/conformance/gpt2/CASE/.

Run by hand, never by CI (the tests only read the files it wrote). Needs PyTorch, transformers and safetensors:

    pip install torch transformers safetensors
    python3 tests/data/generate_gpt2.py            # from the repository's root

Each case is a Hugging Face GPT-2 built the way its users build one, `GPT2LMHeadModel(GPT2Config(...))`, saved with
`save_pretrained` (so `config.json` and `model.safetensors` are exactly the files transformers writes, keys and
layout as written: `transformer.h.0.attn.c_attn.weight` is `[in, out]`, the tied `lm_head` is not stored), and
`io.safetensors` with
  input_ids  int64 [B, T]         a batch run in eval mode,
  logits     float32 [B, T, vocab] what the model gives for it,
  prompt     int64 [1, P]          a prompt, and
  generated  int64 [1, P + 12]     `model.generate(prompt, max_new_tokens=12, do_sample=False)`.
The weights are drawn with a larger spread than GPT-2's init (std 0.02 makes every logit nearly equal), and the case is
redrawn until every greedy step's best logit leads the next by at least 1e-3, so float32 rounding cannot flip a token.
The cases differ in the settings a config can change: activation, n_inner, layer_norm_epsilon, the attention scalings
and untied embeddings.
"""

import json
import os

import torch
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "conformance", "gpt2")

CASES = {
    "tiny": dict(n_layer=2, n_head=4, n_embd=32, vocab_size=97, n_positions=40),
    "settings": dict(
        n_layer=3,
        n_head=2,
        n_embd=24,
        vocab_size=61,
        n_positions=32,
        n_inner=40,
        activation_function="gelu",
        layer_norm_epsilon=1e-6,
        scale_attn_by_inverse_layer_idx=True,
        tie_word_embeddings=False,
    ),
}


def greedy_margin(model, prompt, steps):
    """The smallest lead of the best logit over the second at each greedy step."""
    ids = prompt
    margin = float("inf")
    with torch.no_grad():
        for _ in range(steps):
            logits = model(ids).logits[0, -1]
            top = torch.topk(logits, 2).values
            margin = min(margin, float(top[0] - top[1]))
            ids = torch.cat([ids, logits.argmax().view(1, 1)], dim=1)
    return margin


def write(case, settings, seed):
    torch.manual_seed(seed)
    config = GPT2Config(**settings)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight") and p.dim() == 2:
                p.normal_(0.0, 0.3)
            elif "ln" in name and name.endswith("weight"):
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0.0, 0.1)
    input_ids = torch.randint(0, config.vocab_size, (2, 7))
    prompt = torch.randint(0, config.vocab_size, (1, 5))
    if greedy_margin(model, prompt, 12) < 1e-3:
        return False
    with torch.no_grad():
        logits = model(input_ids).logits
        generated = model.generate(prompt, max_new_tokens=12, do_sample=False, attention_mask=torch.ones_like(prompt))
    directory = os.path.join(OUT, case)
    os.makedirs(directory, exist_ok=True)
    model.save_pretrained(directory)
    for extra in ("generation_config.json",):
        path = os.path.join(directory, extra)
        if os.path.exists(path):
            os.remove(path)
    io = {
        "input_ids": input_ids.contiguous(),
        "logits": logits.contiguous(),
        "prompt": prompt.contiguous(),
        "generated": generated.contiguous(),
    }
    save_file(io, os.path.join(directory, "io.safetensors"), metadata={"case": case, "seed": str(seed)})
    print(case, "seed", seed, "generated", generated.tolist())
    return True


def main():
    torch.set_num_threads(1)
    for case, settings in CASES.items():
        seed = 0
        while not write(case, settings, seed):
            seed += 1


if __name__ == "__main__":
    main()
