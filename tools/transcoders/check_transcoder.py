#!/usr/bin/env python3
"""Recompute a TrigramLens transcoder's headline numbers from the weights alone, with PyTorch, and compare them with
the metrics.json that `trigramlens transcoder` wrote.

Independent of the C# code: it reads ARENA's checkpoint with torch.load, the transcoder's SAELens folder (cfg.json and
sae_weights.safetensors, parsed here in a few lines), regenerates the analysis set with ARENA's generator (study-spec §1:
seed the generator, draw the trigram set candidate by candidate, one randint for the tokens, plant the trigrams left to
right), runs a plain re-implementation of the 1-layer model, and recomputes FVU, L0, dead and dense features, trigram
accuracy with the transcoder spliced in, how many trigrams own a dedicated feature (and a dedicated MLP neuron), and
the most that could (trigrams whose mean MLP output at the prefix, less the mean output, has the completion on top).

    /usr/bin/python3 tools/transcoders/check_transcoder.py --model ../shared/arena-trigrams/trigram_model.pt \\
        --transcoder trigramlens-transcoder/transcoder --metrics trigramlens-transcoder/metrics.json

Exit code 0 when every number agrees (integers exactly, FVU and L0 to 1e-4 relative), 1 otherwise. --fixture PATH
writes the recomputed numbers as JSON.
"""
import argparse
import json
import math
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    """The tensors of a safetensors file: an 8-byte little-endian header length, a JSON header, then raw data."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        t = torch.frombuffer(bytearray(data[start:end]), dtype=DTYPES[entry["dtype"]])
        tensors[name] = t.reshape(entry["shape"]).to(torch.float32)
    return tensors


# ---- ARENA's data (study-spec §1) ------------------------------------------------------------------------------

def trigram_set(g, d_vocab, n):
    tris, prefixes, suffixes = [], set(), set()
    while len(tris) < n:
        a, b, c = torch.randint(0, d_vocab, (3,), generator=g).tolist()
        if (a, b) in prefixes or (a, b) in suffixes or (b, c) in prefixes:
            continue
        tris.append((a, b, c))
        prefixes.add((a, b))
        suffixes.add((b, c))
    return tris


def analysis_set(seed, rows, d_vocab, seq_len, trigram_prob=0.05):
    g = torch.Generator().manual_seed(seed)
    tris = trigram_set(g, d_vocab, int(trigram_prob * d_vocab * (d_vocab - 1)))
    toks = torch.randint(0, d_vocab, (rows, seq_len), generator=g)
    table = torch.full((d_vocab * d_vocab,), -1, dtype=torch.long)
    for a, b, c in tris:
        table[a * d_vocab + b] = c
    for i in range(seq_len - 2):
        comp = table[toks[:, i] * d_vocab + toks[:, i + 1]]
        toks[:, i + 2] = torch.where(comp >= 0, comp, toks[:, i + 2])
    return tris, table, toks


# ---- The model: TransformerLens's HookedTransformer, 1 layer, no LayerNorm ---------------------------------------

def run_model(sd, toks, replace_mlp_out=None):
    """Logits, resid_mid, mlp_out and the MLP's post-ReLU activations. replace_mlp_out(resid_mid) -> mlp_out splices."""
    _, p = toks.shape
    x = sd["embed.W_E"][toks] + sd["pos_embed.W_pos"][:p]
    q = torch.einsum("bpm,hmd->bphd", x, sd["blocks.0.attn.W_Q"]) + sd["blocks.0.attn.b_Q"]
    k = torch.einsum("bpm,hmd->bphd", x, sd["blocks.0.attn.W_K"]) + sd["blocks.0.attn.b_K"]
    v = torch.einsum("bpm,hmd->bphd", x, sd["blocks.0.attn.W_V"]) + sd["blocks.0.attn.b_V"]
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(q.shape[-1])
    causal = torch.ones(p, p, dtype=torch.bool).tril()
    pattern = scores.masked_fill(~causal, float("-inf")).softmax(-1)
    z = torch.einsum("bhqk,bkhd->bqhd", pattern, v)
    resid_mid = x + torch.einsum("bqhd,hdm->bqm", z, sd["blocks.0.attn.W_O"]) + sd["blocks.0.attn.b_O"]
    post = (resid_mid @ sd["blocks.0.mlp.W_in"] + sd["blocks.0.mlp.b_in"]).relu()
    mlp_out = post @ sd["blocks.0.mlp.W_out"] + sd["blocks.0.mlp.b_out"]
    if replace_mlp_out is not None:
        mlp_out = replace_mlp_out(resid_mid)
    logits = (resid_mid + mlp_out) @ sd["unembed.W_U"] + sd["unembed.b_U"]
    return logits, resid_mid, mlp_out, post


# ---- The transcoder, as SAELens defines it -------------------------------------------------------------------

def encode(cfg, w, x):
    pre = x @ w["W_enc"] + w["b_enc"]
    arch = cfg["architecture"]
    if arch.startswith("topk"):
        values, indices = pre.topk(cfg["k"], dim=-1)
        return torch.zeros_like(pre).scatter(-1, indices, values.relu())
    if arch.startswith("jumprelu"):
        return pre.relu() * (pre > w["threshold"]).to(pre.dtype)
    return pre.relu()


def decode(cfg, w, f, x):
    y = f @ w["W_dec"] + w["b_dec"]
    if "W_skip" in w:
        y = y + x @ w["W_skip"].T
    return y


# ---- The dedicated criterion ---------------------------------------------------------------------------------

def owned(acts, toks, table, d_vocab, logit_top, share=0.9):
    """Trigrams with a dedicated unit: >= share of its activation mass on positions whose (previous, current) tokens
    are a trigram prefix (a, b), and its top logit-effect token c. acts: [rows, pos, units]."""
    rows, p, units = acts.shape
    prev = torch.cat([torch.full((rows, 1), -1), toks[:, :-1]], 1)
    pair = torch.where(prev >= 0, prev * d_vocab + toks, torch.full_like(toks, d_vocab * d_vocab))   # position 0: no pair
    mass = torch.zeros(d_vocab * d_vocab + 1, units, dtype=torch.float64)
    mass.index_add_(0, pair.reshape(-1), acts.reshape(-1, units).to(torch.float64))
    total = mass.sum(0)
    top_mass, top_pair = mass[:-1].max(0)
    found = set()
    dedicated_units = 0
    for u in range(units):
        if total[u] <= 0 or top_mass[u] / total[u] < share:
            continue
        key = int(top_pair[u])
        c = int(table[key])
        if c >= 0 and int(logit_top[u]) == c:
            found.add(key)
            dedicated_units += 1
    return len(found), dedicated_units


def ownable_at_most(toks, mlp_out, tris, w_u):
    """Trigrams whose mean MLP output over their prefix's positions, less the mean over every position, has the
    completion as its top logit: the most a dictionary whose units fire alone on a prefix could own."""
    prev = torch.cat([torch.full((toks.shape[0], 1), -1), toks[:, :-1]], 1)
    y = mlp_out.to(torch.float64)
    mean = y.reshape(-1, y.shape[-1]).mean(0)
    count = 0
    for a, b, c in tris:
        at = (prev == a) & (toks == b)
        if at.any() and int(((y[at].mean(0) - mean) @ w_u.to(torch.float64)).argmax()) == c:
            count += 1
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="ARENA's trigram_model.pt (a TransformerLens state_dict)")
    ap.add_argument("--transcoder", required=True, help="the transcoder's SAELens folder (cfg.json, sae_weights.safetensors)")
    ap.add_argument("--metrics", help="metrics.json to compare with")
    ap.add_argument("--seed", type=int, default=40)
    ap.add_argument("--rows", type=int, default=2500)
    ap.add_argument("--fixture", help="write the recomputed numbers to this JSON file")
    args = ap.parse_args()
    torch.set_grad_enabled(False)

    sd = torch.load(args.model, map_location="cpu")
    sd = {k: v.to(torch.float32) if v.is_floating_point() else v for k, v in sd.items()}
    cfg = json.load(open(f"{args.transcoder}/cfg.json"))
    w = read_safetensors(f"{args.transcoder}/sae_weights.safetensors")
    d_vocab, d_model = sd["embed.W_E"].shape
    seq_len = sd["pos_embed.W_pos"].shape[0]
    assert cfg["metadata"]["hook_name"] == "blocks.0.hook_resid_mid" and cfg["metadata"]["hook_name_out"] == "blocks.0.hook_mlp_out"
    assert tuple(w["W_enc"].shape) == (cfg["d_in"], cfg["d_sae"]) and tuple(w["W_dec"].shape) == (cfg["d_sae"], cfg["d_out"])

    tris, table, toks = analysis_set(args.seed, args.rows, d_vocab, seq_len)
    _, resid_mid, mlp_out, post = run_model(sd, toks)
    x = resid_mid.reshape(-1, d_model)
    y = mlp_out.reshape(-1, d_model)
    sse, active, counts, f_all = 0.0, 0, torch.zeros(cfg["d_sae"], dtype=torch.float64), []
    for start in range(0, x.shape[0], 8192):
        xs, ys = x[start:start + 8192], y[start:start + 8192]
        f = encode(cfg, w, xs)
        sse += float((ys - decode(cfg, w, f, xs)).to(torch.float64).pow(2).sum())
        on = f != 0
        active += int(on.sum())
        counts += on.sum(0).to(torch.float64)
        f_all.append(f)
    sst = float((y.to(torch.float64) - y.to(torch.float64).mean(0)).pow(2).sum())
    n = x.shape[0]
    density = counts / n
    acts = torch.cat(f_all).reshape(args.rows, seq_len, cfg["d_sae"])

    prefixes = torch.tensor([[a, b] for a, b, _ in tris])
    completions = torch.tensor([c for _, _, c in tris])
    splice = lambda rm: decode(cfg, w, encode(cfg, w, rm), rm)
    spliced_logits = run_model(sd, prefixes, replace_mlp_out=splice)[0][:, 1]
    clean_logits = run_model(sd, prefixes)[0][:, 1]

    feature_logit_top = (w["W_dec"] @ sd["unembed.W_U"]).argmax(-1)
    neuron_logit_top = (sd["blocks.0.mlp.W_out"] @ sd["unembed.W_U"]).argmax(-1)
    owned_features, dedicated_features = owned(acts, toks, table, d_vocab, feature_logit_top)
    owned_neurons, _ = owned(post, toks, table, d_vocab, neuron_logit_top)

    ours = {
        "fvu": sse / sst,
        "l0": active / n,
        "dead": int((density == 0).sum()),
        "dense": int((density > 0.1).sum()),
        "spliced_correct": int((spliced_logits.argmax(-1) == completions).sum()),
        "clean_correct": int((clean_logits.argmax(-1) == completions).sum()),
        "trigrams_owned": owned_features,
        "dedicated_features": dedicated_features,
        "neuron_trigrams_owned": owned_neurons,
        "ownable_at_most": ownable_at_most(toks, mlp_out, tris, sd["unembed.W_U"]),
        "positions": n,
        "trigrams": len(tris),
        "torch_version": torch.__version__,
    }
    if args.fixture:
        with open(args.fixture, "w") as f:
            json.dump(ours, f, indent=2)
            f.write("\n")

    print(f"{'number':<24}{'PyTorch':>14}{'metrics.json':>16}  agree")
    if not args.metrics:
        for key, value in ours.items():
            print(f"{key:<24}{value!s:>14}")
        return 0
    m = json.load(open(args.metrics))
    theirs = {
        "fvu": m["reconstruction"]["fvu"],
        "l0": m["reconstruction"]["l0"],
        "dead": m["reconstruction"]["dead"],
        "dense": m["reconstruction"]["dense"],
        "spliced_correct": m["spliced"]["spliced"]["correct"],
        "clean_correct": m["spliced"]["clean"]["correct"],
        "trigrams_owned": m["dedicated"]["trigrams_owned"],
        "dedicated_features": m["dedicated"]["dedicated_units"],
        "neuron_trigrams_owned": m["neuron_baseline"]["trigrams_owned"],
        "ownable_at_most": m["dedicated"]["ownable_at_most"],
        "positions": m["analysis_set"]["positions"],
        "trigrams": m["analysis_set"]["trigrams"],
    }
    ok = True
    for key, value in theirs.items():
        mine = ours[key]
        agree = abs(mine - value) <= 1e-4 * max(abs(value), 1e-12) if isinstance(value, float) else mine == value
        ok &= agree
        print(f"{key:<24}{mine:>14.6g}{value:>16.6g}  {'yes' if agree else 'NO'}")
    print("all numbers agree" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
