"""Writes the PyTorch reference cases for attention and the Transformer layers into
tests/data/conformance/attention/: F.scaled_dot_product_attention, nn.MultiheadAttention,
nn.TransformerEncoderLayer / TransformerEncoder / TransformerDecoderLayer / TransformerDecoder /
Transformer, d2l's PositionalEncoding, a learned position embedding and nn.RMSNorm.

Run by hand, never by CI (the tests only read the files it wrote). Needs PyTorch 2.15 and
safetensors:

    python3 tests/data/generate_attention.py            # from the repository's root

Each case NAME is two files (see tests/data/conformance/attention/README.md):
NAME.weights.safetensors (the state_dict before the forward, as a user saves it) and
NAME.io.safetensors: the inputs under PyTorch's argument names (`query`, `key`, `value`, `src`,
`tgt`, `memory`, `input`; masks `attn_mask`, `key_padding_mask`, `src_mask`, ...: float32 masks
as given, boolean masks stored as int64 0/1), `output`, `weights` (the attention weights when
returned), `output_weight` / `weights_weight` (the random tensors W of the loss
sum(output * W) [+ sum(weights * W2)]), the gradient of that loss for every float input
(`query_grad`, ...) and every parameter (`grad.KEY`); in eval cases also `output_no_grad`, the
output computed under torch.no_grad() (where PyTorch may take its fast path). The metadata holds
`arch`, the constructor's and the call's settings, `mode`, `keys` (the state_dict keys in order,
JSON) and `module_repr`.
"""

import json
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "conformance", "attention")


def flag(value):
    return "true" if value else "false"


def stored(value):
    """A tensor as the files hold it: float32 as is, bool as int64 0/1."""
    if value.dtype == torch.bool:
        return value.to(torch.int64).contiguous()
    return value.detach().clone().contiguous()


def write_case(case, arch, seed, mode, net, inputs, call, settings, describe):
    """Runs `call(net, inputs)` (giving output or (output, weights)), backward of the weighted sum,
    and writes both files. `inputs` maps PyTorch's argument names to tensors (float inputs get
    gradients; the same tensor under two names is one leaf, as in a self-attention call)."""
    weights = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()} if net else {}
    if net is not None:
        net.train(mode == "train")
    leaves = {}
    given = {}
    for name, value in inputs.items():
        if value is None:
            continue
        if value.is_floating_point() and not name.endswith("mask"):
            key = id(value)
            if key not in leaves:
                leaves[key] = value.detach().clone().requires_grad_(True)
            given[name] = leaves[key]
        else:
            given[name] = value
    result = call(net, given)
    output, attn = (result if isinstance(result, tuple) else (result, None))
    torch.manual_seed(seed + 1000)
    w_out = torch.randn(output.shape)
    loss = (output * w_out).sum()
    io = {"output": output.detach().contiguous(), "output_weight": w_out}
    if attn is not None:
        w_attn = torch.randn(attn.shape)
        loss = loss + (attn * w_attn).sum()
        io["weights"] = attn.detach().contiguous()
        io["weights_weight"] = w_attn
    loss.backward()
    seen = set()
    for name, value in inputs.items():
        if value is None:
            continue
        io[name] = stored(value)
        if name in given and given[name].requires_grad and id(given[name]) not in seen:
            seen.add(id(given[name]))
            io[name + "_grad"] = given[name].grad.detach().contiguous()
    if net is not None:
        for key, p in net.named_parameters():
            if p.requires_grad:
                io["grad." + key] = p.grad.detach().contiguous()
        if mode == "eval":
            with torch.no_grad():
                fast = call(net, {k: (v.detach() if torch.is_tensor(v) else v) for k, v in given.items()})
            fast = fast[0] if isinstance(fast, tuple) else fast
            io["output_no_grad"] = fast.detach().contiguous()
    metadata = {
        "case": case,
        "arch": arch,
        "seed": str(seed),
        "mode": mode,
        "describe": describe,
        "keys": json.dumps(list(weights.keys())),
        "module_repr": repr(net) if net is not None else "",
    }
    metadata.update({k: (flag(v) if isinstance(v, bool) else str(v)) for k, v in settings.items()})
    save_file(weights, os.path.join(OUT, case + ".weights.safetensors"))
    save_file(io, os.path.join(OUT, case + ".io.safetensors"), metadata=metadata)
    print(case, "written")


def randomized(net, seed):
    """Every parameter redrawn (zero biases would hide their gradients' mistakes)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape) * 0.5)
    return net


# --- F.scaled_dot_product_attention ---------------------------------------------------------


def sdpa_case(case, seed, shapes, mask, is_causal, scale, describe):
    torch.manual_seed(seed)
    q, k, v = (torch.randn(s) for s in shapes)
    inputs = {"query": q, "key": k, "value": v, "attn_mask": mask}

    def call(_, x):
        return F.scaled_dot_product_attention(
            x["query"], x["key"], x["value"], attn_mask=x.get("attn_mask"), dropout_p=0.0,
            is_causal=is_causal, scale=scale,
        )

    settings = {"is_causal": is_causal, "scale": "None" if scale is None else repr(scale), "dropout_p": 0.0}
    write_case(case, "sdpa", seed, "eval", None, inputs, call, settings, describe)


# --- nn.MultiheadAttention ------------------------------------------------------------------


def mha_case(case, seed, embed_dim, num_heads, options, lengths, batch, call_args, masks, mode="train",
             self_attention=False, describe=""):
    torch.manual_seed(seed)
    net = randomized(nn.MultiheadAttention(embed_dim, num_heads, **options), seed)
    batch_first = options.get("batch_first", False)
    kdim = options.get("kdim") or embed_dim
    vdim = options.get("vdim") or embed_dim
    tgt, src = lengths

    def shape(length, width):
        if batch is None:
            return (length, width)
        return (batch, length, width) if batch_first else (length, batch, width)

    query = torch.randn(shape(tgt, embed_dim))
    if self_attention:
        key = value = query
    else:
        key, value = torch.randn(shape(src, kdim)), torch.randn(shape(src, vdim))
    inputs = {"query": query, "key": key, "value": value, **masks}

    def call(m, x):
        return m(x["query"], x["key"], x["value"], key_padding_mask=x.get("key_padding_mask"),
                 attn_mask=x.get("attn_mask"), **call_args)

    settings = {
        "embed_dim": embed_dim,
        "num_heads": num_heads,
        "dropout": options.get("dropout", 0.0),
        "bias": options.get("bias", True),
        "add_bias_kv": options.get("add_bias_kv", False),
        "add_zero_attn": options.get("add_zero_attn", False),
        "kdim": kdim,
        "vdim": vdim,
        "batch_first": batch_first,
        "need_weights": call_args.get("need_weights", True),
        "average_attn_weights": call_args.get("average_attn_weights", True),
        "is_causal": call_args.get("is_causal", False),
    }
    write_case(case, "mha", seed, mode, net, inputs, call, settings, describe)


# --- Transformer layers -------------------------------------------------------------------


def layer_settings(d_model, nhead, dim_feedforward, dropout, activation, eps, batch_first, norm_first, bias):
    return {
        "d_model": d_model,
        "nhead": nhead,
        "dim_feedforward": dim_feedforward,
        "dropout": dropout,
        "activation": activation,
        "layer_norm_eps": eps,
        "batch_first": batch_first,
        "norm_first": norm_first,
        "bias": bias,
    }


def seq(batch_first, batch, length, width):
    return torch.randn((batch, length, width) if batch_first else (length, batch, width))


def encoder_case(case, seed, arch, s, num_layers, final_norm, batch, length, masks, call_flags, mode):
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(**s)
    if arch == "encoder_layer":
        net = layer
    else:
        norm = nn.LayerNorm(s["d_model"], eps=s["layer_norm_eps"], bias=s["bias"]) if final_norm else None
        net = nn.TransformerEncoder(layer, num_layers, norm=norm, enable_nested_tensor=False)
    randomized(net, seed)
    src = seq(s["batch_first"], batch, length, s["d_model"])
    inputs = {"src": src, **masks}

    def call(m, x):
        if arch == "encoder_layer":
            return m(x["src"], src_mask=x.get("src_mask"), src_key_padding_mask=x.get("src_key_padding_mask"),
                     **call_flags)
        return m(x["src"], mask=x.get("src_mask"), src_key_padding_mask=x.get("src_key_padding_mask"),
                 **call_flags)

    settings = dict(s, num_layers=num_layers, final_norm=final_norm, **call_flags)
    write_case(case, arch, seed, mode, net, inputs, call, settings, f"{arch} {s}")


def decoder_case(case, seed, arch, s, num_layers, final_norm, batch, lengths, masks, call_flags, mode):
    torch.manual_seed(seed)
    layer = nn.TransformerDecoderLayer(**s)
    if arch == "decoder_layer":
        net = layer
    else:
        norm = nn.LayerNorm(s["d_model"], eps=s["layer_norm_eps"], bias=s["bias"]) if final_norm else None
        net = nn.TransformerDecoder(layer, num_layers, norm=norm)
    randomized(net, seed)
    tgt = seq(s["batch_first"], batch, lengths[0], s["d_model"])
    memory = seq(s["batch_first"], batch, lengths[1], s["d_model"])
    inputs = {"tgt": tgt, "memory": memory, **masks}

    def call(m, x):
        return m(x["tgt"], x["memory"], tgt_mask=x.get("tgt_mask"), memory_mask=x.get("memory_mask"),
                 tgt_key_padding_mask=x.get("tgt_key_padding_mask"),
                 memory_key_padding_mask=x.get("memory_key_padding_mask"), **call_flags)

    settings = dict(s, num_layers=num_layers, final_norm=final_norm, **call_flags)
    write_case(case, arch, seed, mode, net, inputs, call, settings, f"{arch} {s}")


def transformer_case(case, seed, s, layers, batch, lengths, masks, mode):
    torch.manual_seed(seed)
    net = nn.Transformer(num_encoder_layers=layers[0], num_decoder_layers=layers[1], **s)
    randomized(net, seed)
    src = seq(s["batch_first"], batch, lengths[0], s["d_model"])
    tgt = seq(s["batch_first"], batch, lengths[1], s["d_model"])
    inputs = {"src": src, "tgt": tgt, **masks}

    def call(m, x):
        return m(x["src"], x["tgt"], src_mask=x.get("src_mask"), tgt_mask=x.get("tgt_mask"),
                 memory_mask=x.get("memory_mask"), src_key_padding_mask=x.get("src_key_padding_mask"),
                 tgt_key_padding_mask=x.get("tgt_key_padding_mask"),
                 memory_key_padding_mask=x.get("memory_key_padding_mask"))

    settings = dict(s, num_encoder_layers=layers[0], num_decoder_layers=layers[1])
    write_case(case, "transformer", seed, mode, net, inputs, call, settings, f"transformer {s}")


# --- position encodings and RMSNorm ---------------------------------------------------------


class PositionalEncoding(nn.Module):
    """d2l 11.6, as printed in the book."""

    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.P = torch.zeros((1, max_len, num_hiddens))
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)

    def forward(self, X):
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        return self.dropout(X)


class LearnedPositionalEncoding(nn.Module):
    """A learned position embedding (GPT-2's wpe): X + embedding(arange(L)), then dropout."""

    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.embedding = nn.Embedding(max_len, num_hiddens)

    def forward(self, X):
        positions = torch.arange(X.shape[1], device=X.device)
        return self.dropout(X + self.embedding(positions).unsqueeze(0))


def positional_case(case, seed, arch, num_hiddens, max_len, shape, mode):
    torch.manual_seed(seed)
    cls = PositionalEncoding if arch == "positional_encoding" else LearnedPositionalEncoding
    net = cls(num_hiddens, 0.0, max_len)
    x = torch.randn(shape)
    settings = {"num_hiddens": num_hiddens, "dropout": 0.0, "max_len": max_len}
    write_case(case, arch, seed, mode, net, {"input": x}, lambda m, x: m(x["input"]), settings, arch)
    if arch == "positional_encoding":
        # d2l's P (a plain attribute, not in the state_dict): kept beside the case.
        save_file({"P": net.P.contiguous()}, os.path.join(OUT, case + ".P.safetensors"))


def rms_case(case, seed, normalized_shape, eps, affine, shape, mode):
    torch.manual_seed(seed)
    net = nn.RMSNorm(normalized_shape, eps=eps, elementwise_affine=affine)
    if affine:
        randomized(net, seed)
    x = torch.randn(shape) * 3.0
    settings = {"normalized_shape": json.dumps(list(normalized_shape)), "eps": "None" if eps is None else repr(eps),
                "elementwise_affine": affine}
    write_case(case, "rms_norm", seed, mode, net, {"input": x}, lambda m, x: m(x["input"]), settings, "RMSNorm")


def causal(n, m=None):
    return torch.ones(n, m or n, dtype=torch.bool).triu(1)


def padding(batch, length, seed):
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(batch, length, generator=g) < 0.3
    mask[:, 0] = False  # every row keeps a key
    return mask


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    # scaled_dot_product_attention: broadcast batch dims, bool and float masks, causal with L != S, scale.
    sdpa_case("sdpa_plain", 1, [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)], None, False, None, "4-D, no mask")
    keep = torch.rand(5, 7, generator=g) > 0.3
    keep[:, 0] = True
    sdpa_case("sdpa_bool_mask", 2, [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)], keep, False, None,
              "bool [L, S] mask broadcast over batch and heads (True takes part)")
    float_mask = torch.randn(2, 1, 5, 7, generator=g)
    float_mask[0, 0, 1, 3] = float("-inf")
    sdpa_case("sdpa_float_mask", 3, [(2, 3, 5, 4), (1, 3, 7, 4), (2, 1, 7, 6)], float_mask, False, 0.3,
              "float [N, 1, L, S] mask with -inf, broadcast batch dims, scale 0.3")
    sdpa_case("sdpa_causal", 4, [(3, 4, 3), (3, 6, 3), (3, 6, 2)], None, True, None, "is_causal with L=4 < S=6")

    # nn.MultiheadAttention.
    mha_case("mha_self", 10, 6, 3, {}, (5, 5), 2, {}, {}, self_attention=True,
             describe="self-attention, seq-first, averaged weights")
    mha_case("mha_cross_kdim_vdim", 11, 8, 2, {"kdim": 5, "vdim": 3, "batch_first": True}, (3, 4), 2,
             {"average_attn_weights": False},
             {"attn_mask": torch.rand(3, 4, generator=g) < 0.25, "key_padding_mask": padding(2, 4, 1)},
             describe="kdim/vdim, batch_first, bool 2-D attn_mask and key_padding_mask, per-head weights")
    m3 = torch.randn(2 * 2, 3, 4, generator=g)
    m3[1, 2, 3] = float("-inf")
    mha_case("mha_float3d_bias_kv", 12, 4, 2, {"bias": False, "add_bias_kv": True, "add_zero_attn": True}, (3, 4),
             2, {}, {"attn_mask": m3, "key_padding_mask": torch.randn(2, 4, generator=g)},
             describe="float 3-D attn_mask, float key_padding_mask, bias=False, add_bias_kv, add_zero_attn")
    mha_case("mha_causal_no_weights", 13, 6, 2, {"batch_first": True}, (4, 4), 3,
             {"need_weights": False, "is_causal": True}, {"attn_mask": causal(4)}, self_attention=True,
             describe="is_causal with a causal bool mask, need_weights=False")
    mha_case("mha_unbatched", 14, 6, 3, {}, (3, 5), None, {},
             {"attn_mask": torch.rand(3 * 1, 3, 5, generator=g) < 0.2, "key_padding_mask": padding(1, 5, 2)[0]},
             describe="unbatched 2-D query, 3-D bool mask [heads, L, S], 1-D key_padding_mask")
    m3b = torch.rand(2 * 3, 5, 5, generator=g) < 0.2
    mha_case("mha_eval_bool3d", 15, 9, 3, {"dropout": 0.2}, (5, 5), 2, {}, {"attn_mask": m3b}, mode="eval",
             self_attention=True, describe="eval mode with dropout 0.2 (off), bool 3-D mask")

    mha_case("mha_eval_fast_path", 16, 8, 2, {"batch_first": True}, (5, 5), 2, {"need_weights": False},
             {"key_padding_mask": padding(2, 5, 9)}, mode="eval", self_attention=True,
             describe="eval self-attention that PyTorch runs on its fast path under no_grad")

    # Transformer layers.
    s = layer_settings(8, 2, 12, 0.0, "relu", 1e-5, True, False, True)
    encoder_case("encoder_layer_relu", 20, "encoder_layer", s, 1, False, 2, 5,
                 {"src_key_padding_mask": padding(2, 5, 3)}, {}, "train")
    s = layer_settings(6, 3, 10, 0.1, "gelu", 1e-6, False, True, True)
    encoder_case("encoder_layer_gelu_norm_first", 21, "encoder_layer", s, 1, False, 3, 4,
                 {"src_mask": torch.randn(4, 4, generator=g)}, {}, "eval")
    s = layer_settings(8, 2, 16, 0.0, "relu", 1e-5, False, False, True)
    encoder_case("encoder_causal_norm", 22, "encoder", s, 2, True, 2, 5, {"src_mask": causal(5)},
                 {"is_causal": True}, "train")
    s = layer_settings(6, 2, 8, 0.3, "gelu", 1e-5, True, True, False)
    encoder_case("encoder_eval_nobias", 23, "encoder", s, 3, True, 2, 4,
                 {"src_key_padding_mask": padding(2, 4, 4)}, {}, "eval")
    s = layer_settings(8, 2, 12, 0.2, "relu", 1e-5, True, False, True)
    encoder_case("encoder_eval_fast_path", 24, "encoder", s, 2, False, 2, 5,
                 {"src_key_padding_mask": padding(2, 5, 10)}, {}, "eval")
    s = layer_settings(8, 4, 12, 0.0, "relu", 1e-5, False, False, True)
    decoder_case("decoder_layer", 30, "decoder_layer", s, 1, False, 2, (4, 6),
                 {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(4),
                  "memory_key_padding_mask": padding(2, 6, 5)}, {"tgt_is_causal": True}, "train")
    s = layer_settings(6, 3, 10, 0.0, "gelu", 1e-5, True, True, True)
    decoder_case("decoder_norm_first", 31, "decoder", s, 2, True, 2, (3, 5),
                 {"tgt_mask": causal(3), "memory_mask": torch.rand(3, 5, generator=g) < 0.2,
                  "tgt_key_padding_mask": padding(2, 3, 6)}, {}, "train")
    s = layer_settings(8, 2, 16, 0.1, "relu", 1e-5, False, False, True)
    transformer_case("transformer_small", 40, s, (2, 1), 2, (5, 4),
                     {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(4),
                      "src_key_padding_mask": padding(2, 5, 7)}, "eval")
    s = layer_settings(4, 2, 6, 0.0, "gelu", 1e-5, True, True, True)
    transformer_case("transformer_batch_first_train", 41, s, (1, 2), 3, (3, 4),
                     {"tgt_mask": causal(4), "memory_key_padding_mask": padding(3, 3, 8)}, "train")

    # Position encodings and RMSNorm.
    positional_case("positional_encoding", 50, "positional_encoding", 6, 20, (2, 7, 6), "train")
    positional_case("learned_positional", 51, "learned_positional", 5, 9, (3, 6, 5), "train")
    rms_case("rms_norm_default", 60, [5], None, True, (3, 4, 5), "train")
    rms_case("rms_norm_2d_eps", 61, [2, 3], 1e-3, True, (4, 2, 3), "train")
    rms_case("rms_norm_no_affine", 62, [7], 1e-6, False, (2, 7), "train")


if __name__ == "__main__":
    main()
