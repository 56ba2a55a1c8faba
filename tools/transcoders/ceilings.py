#!/usr/bin/env python3
"""How many trigrams could own a dedicated transcoder feature at all? Bounds from the model's own activations.

A feature is dedicated to trigram (a, b, c) when >= 90 % of its activation mass lies on positions whose (previous,
current) tokens are (a, b) and c is its top logit effect W_dec[f] . W_U (issue #10, docs/transcoders.md). This script
bounds the two halves of that criterion separately, on the analysis set (2,500 rows of seed 40, every position), with
nothing but ARENA's checkpoint and PyTorch (the data and forward pass are check_transcoder.py's):

Decoder side. Where one feature alone fires on (a, b), its decoder row must write the MLP's mean output there minus
what the rest of the transcoder writes (b_dec, a skip path, features of the current or previous token). For each of
those decompositions it counts the trigrams whose remainder has c as its top logit; b_dec is also optimised freely.

Encoder side (--encoder). For each trigram, the linear direction w and threshold t whose ReLU(x . w - t) puts the
largest share of its mass on the prefix, optimised on the first half of the rows (from two starts: Fisher's
discriminant and the difference of means) and measured on the held-out second half.

    /usr/bin/python3 tools/transcoders/ceilings.py --model ../shared/arena-trigrams/trigram_model.pt [--encoder]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_transcoder import analysis_set, run_model  # noqa: E402


def top_is_completion(remainders, completions, w_u):
    """remainders [trigrams, d_model]: how many have their trigram's completion as top logit."""
    return int(((remainders @ w_u).argmax(-1) == completions).sum())


def decoder_side(x, y, prev, cur, tris, w_u):
    masks = [(prev == a) & (cur == b) for a, b, _ in tris]
    completions = torch.tensor([c for _, _, c in tris])
    on_prefix = torch.stack(masks).any(0)
    mean_at = lambda t, sel: t[sel].mean(0)
    at_prefix = torch.stack([mean_at(y, m) for m in masks])                       # [trigrams, d_model]
    rows = {}
    rows["b_dec = 0 (the MLP's own output)"] = top_is_completion(at_prefix, completions, w_u)
    rows["b_dec = mean output"] = top_is_completion(at_prefix - y.mean(0), completions, w_u)
    rows["b_dec = mean output off the prefixes"] = top_is_completion(at_prefix - mean_at(y, ~on_prefix), completions, w_u)
    same_cur = torch.stack([mean_at(y, cur == b) for _, b, _ in tris])
    same_prev = torch.stack([mean_at(y, prev == a) for a, _, _ in tris])
    rows["minus the mean output at the same current token"] = top_is_completion(at_prefix - same_cur, completions, w_u)
    rows["minus the mean output at the same previous token"] = top_is_completion(at_prefix - same_prev, completions, w_u)
    rows["interaction: minus both main effects"] = top_is_completion(at_prefix - same_cur - same_prev + y.mean(0), completions, w_u)
    ones = torch.ones(x.shape[0], 1)
    solution = torch.linalg.lstsq(torch.cat([x, ones], 1), y).solution              # y ~ x W + b over every position
    skip_remainder = y - torch.cat([x, ones], 1) @ solution
    rows["minus a least-squares skip path (x W_skip^T + b_dec)"] = top_is_completion(
        torch.stack([mean_at(skip_remainder, m) for m in masks]), completions, w_u)
    best = 0
    for restart in range(10):                                                      # the best shared b_dec, found by descent
        g = torch.Generator().manual_seed(restart)
        b = (y.mean(0) if restart == 0 else y.mean(0) + 3 * y.std(0) * torch.randn(y.shape[1], generator=g)).clone().requires_grad_(True)
        opt = torch.optim.Adam([b], lr=0.05)
        for _ in range(1000):
            with torch.enable_grad():
                logits = (at_prefix - b) @ w_u
                loss = torch.nn.functional.cross_entropy(30 * logits / logits.norm(dim=1, keepdim=True), completions)
                opt.zero_grad()
                loss.backward()
            opt.step()
        best = max(best, top_is_completion(at_prefix - b.detach(), completions, w_u))
    rows["b_dec optimised for the count (10 starts)"] = best
    return rows


def encoder_side(x, prev, cur, tris, steps):
    n = x.shape[0] // 2
    mask = torch.stack([((prev == a) & (cur == b)).float() for a, b, _ in tris], 1)  # [positions, trigrams]
    xt, mt, xh, mh = x[:n], mask[:n], x[n:], mask[n:]
    centre = xt.mean(0)
    cov_inv = torch.linalg.inv(torch.cov((xt - centre).T) + 1e-4 * torch.eye(x.shape[1]))
    means = torch.stack([xt[mt[:, j] > 0].mean(0) for j in range(mask.shape[1])], 1)  # [d_model, trigrams]

    def share(w, t, xs, ms):
        a = torch.relu(xs @ w - t)
        total = a.sum(0)
        return torch.where(total > 0, (a * ms).sum(0) / total.clamp_min(1e-12), torch.zeros_like(total))

    best_train = torch.zeros(mask.shape[1])
    best_held = torch.zeros(mask.shape[1])
    for name, start in [("Fisher", cov_inv @ (means - centre[:, None])), ("mean difference", means - centre[:, None])]:
        w0 = start / start.norm(dim=0, keepdim=True)
        s0 = xt @ w0
        t0 = torch.stack([s0[mt[:, j] > 0, j].median() for j in range(mask.shape[1])])
        w, t = w0.clone().requires_grad_(True), t0.clone().requires_grad_(True)
        opt = torch.optim.Adam([w, t], lr=0.01)
        for step in range(steps):
            with torch.enable_grad():
                loss = -torch.log(share(w, t, xt, mt) + 1e-6).sum()
                opt.zero_grad()
                loss.backward()
            opt.step()
            with torch.no_grad():
                w /= w.norm(dim=0, keepdim=True)
            if (step + 1) % 100 == 0:
                print(f"  {name}: step {step + 1}/{steps}", file=sys.stderr, flush=True)
        train, held = share(w.detach(), t.detach(), xt, mt), share(w.detach(), t.detach(), xh, mh)
        print(f"  from {name}: share >= 0.9 on the training half {int((train >= 0.9).sum())}, held out {int((held >= 0.9).sum())}",
              file=sys.stderr, flush=True)
        best_train, best_held = torch.maximum(best_train, train), torch.maximum(best_held, held)
    return int((best_train >= 0.9).sum()), int((best_held >= 0.9).sum()), float(best_held.median())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="ARENA's trigram_model.pt (a TransformerLens state_dict)")
    ap.add_argument("--seed", type=int, default=40)
    ap.add_argument("--rows", type=int, default=2500)
    ap.add_argument("--encoder", action="store_true", help="also the encoder side (minutes)")
    ap.add_argument("--steps", type=int, default=300, help="optimisation steps per start on the encoder side")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.manual_seed(0)

    sd = torch.load(args.model, map_location="cpu")
    sd = {k: v.to(torch.float32) if v.is_floating_point() else v for k, v in sd.items()}
    d_vocab, d_model = sd["embed.W_E"].shape
    tris, _, toks = analysis_set(args.seed, args.rows, d_vocab, sd["pos_embed.W_pos"].shape[0])
    _, resid_mid, mlp_out, _ = run_model(sd, toks)
    x, y = resid_mid.reshape(-1, d_model), mlp_out.reshape(-1, d_model)
    cur = toks.reshape(-1)
    prev = torch.cat([torch.full((toks.shape[0], 1), -1), toks[:, :-1]], 1).reshape(-1)

    print(f"Decoder side: trigrams (of {len(tris)}) whose prefix feature would have its completion as top logit effect")
    for name, count in decoder_side(x, y, prev, cur, tris, sd["unembed.W_U"]).items():
        print(f"  {count:4d}  {name}")
    if args.encoder:
        train, held, median = encoder_side(x, prev, cur, tris, args.steps)
        print(f"Encoder side: trigrams whose best linear-threshold feature puts >= 90 % of its mass on the prefix")
        print(f"  {train:4d}  on the rows it was fitted on (first half)")
        print(f"  {held:4d}  held out (second half); median share {median:.2f}")


if __name__ == "__main__":
    main()
