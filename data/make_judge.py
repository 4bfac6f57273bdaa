"""Train the reference character judge on Shakespeare and write it to data/judge_char/.

Usage: python data/make_judge.py [--steps N] [--out data/judge_char] [--threads T] [--seed S]

Trains `flowmaps_nb.evaluate.CharTransformer` on random windows of the first 90% of data/shakespeare.txt,
saves safetensors weights + config.json (config, vocabulary, training record), then prints the perplexity
on 2000 random held-out windows of length 64 and 128 and on 2000 training windows of length 128.
"""
import argparse, json, math, time
from pathlib import Path
import torch
from flowmaps_nb.evaluate import (Vocab, load_corpus, split_corpus, random_windows, train_judge, save_judge,
                                  load_judge, gen_perplexity, unigram_entropy)

HERE = Path(__file__).resolve().parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=1400)
    ap.add_argument('--out', default=str(HERE / 'judge_char'))
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--d', type=int, default=128)
    ap.add_argument('--layers', type=int, default=4)
    ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--ctx', type=int, default=128)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--n-eval', type=int, default=2000)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    text = load_corpus()
    train, held = split_corpus(text, 0.9)
    vocab = Vocab(text)
    print(f"corpus {len(text):,} chars, vocab {len(vocab)}, train {len(train):,}, held-out {len(held):,}; "
          f"{a.steps} steps of {a.batch}x{a.ctx} on {a.threads} thread(s)", flush=True)
    t0 = time.time()
    model = train_judge(train, vocab, a.steps, ctx=a.ctx, batch=a.batch, d=a.d, layers=a.layers, heads=a.heads,
                        lr=a.lr, seed=a.seed, device='cpu', progress=True)
    train_s = time.time() - t0
    res = {}
    for name, src, L in [('heldout_64', held, 64), ('heldout_128', held, 128), ('train_128', train, 128)]:
        w = random_windows(src, L, a.n_eval, seed=1)
        res[name] = {'ppl': round(gen_perplexity(model, w, vocab), 4), 'unigram_entropy': round(unigram_entropy(w), 4)}
    n_params = sum(p.numel() for p in model.parameters())
    meta = {'steps': a.steps, 'batch': a.batch, 'lr': a.lr, 'seed': a.seed, 'threads': a.threads,
            'train_seconds': round(train_s), 'params': n_params, 'split': 'first 90% of data/shakespeare.txt',
            'eval': {**res, 'windows': a.n_eval, 'window_seed': 1}}
    out = save_judge(model, vocab, a.out, meta=meta)
    j2, v2 = load_judge(out)   # the saved files reproduce the model
    w = random_windows(held, 64, 200, seed=1)
    assert abs(gen_perplexity(j2, w, v2) - gen_perplexity(model, w, vocab)) < 1e-6
    size = (out / 'model.safetensors').stat().st_size
    print(f"trained {a.steps} steps in {train_s:.0f}s ({n_params:,} params, model.safetensors {size / 1e6:.2f} MB)")
    for k, r in res.items(): print(f"{k:12s} perplexity {r['ppl']:.3f}  unigram entropy {r['unigram_entropy']:.3f} nats")
    print(f"wrote {out}/model.safetensors and config.json")


if __name__ == '__main__':
    main()
