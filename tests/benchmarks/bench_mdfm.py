"""Steering one-step text: meta discrete flow maps (MDFM). Prints markdown tables; results go to RESULTS.md §6.

  python tests/benchmarks/bench_mdfm.py chain --out outputs/bench_mdfm_chain --n 4000 --steps 40   # exact chain, TV to the tilted law
  python tests/benchmarks/bench_mdfm.py text --ckpt data/pretrained/mdfm_shakespeare --base data/pretrained/mdfm_shakespeare_diag \
      --out outputs/bench_mdfm_text --n 32 --steps 10 --scale 2

chain: a random Markov chain (K = 5, L = 6: 15,625 sequences, enumerable), reward r(x) = number of 0 tokens (soft
one-hot sum, so MFM-G can differentiate it), λ = 1. An MDFM (flattening MLP) is trained on 100k chain samples
(diagonal, then PSD). Each steering method is run with (a) the exact posterior (`ChainPosterior`: FFBS draws,
forward-backward drift) and (b) the trained MDFM; TV of n steered samples to the exact tilted distribution,
against the floor of n exact draws.

text: the Shakespeare MDFM, rewards (i) the keyword 'the' (RegexCount for black-box methods, SoftKeyword for
MFM-G: equal on vertices), (ii) VADER positive sentiment (black box). Mean reward, NFE per sample, generative
perplexity under data/judge_char and unigram entropy of the steered samples; Best-of-N up to N = 1000.
"""
import argparse, json, math, sys, time
from pathlib import Path
import torch
from flowmaps_nb.evaluate import MarkovChain, expected_tv_floor
from flowmaps_nb.metadiscrete import MetaDiscreteFlowMap, ChainPosterior, tilted_chain, tv_to
from flowmaps_nb.steering import steer, WithBase
from flowmaps_nb.train import Trainer, load


def row(cells): return '| ' + ' | '.join(str(c) for c in cells) + ' |'


def run_chain(a):
    chain = MarkovChain.random(K=5, L=6, n_next=2, seed=0)
    count0 = lambda x: x[..., 0].sum(-1)
    _, p = chain.enumerate()
    _, q = tilted_chain(chain, count0, a.scale)
    floor = expected_tv_floor(q, a.n)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    data = chain.sample(100000, torch.Generator().manual_seed(0))
    def stage1():
        torch.manual_seed(0)
        m = MetaDiscreteFlowMap.for_data(6, 5, net='seqmlp', hidden=a.hidden, depth=a.depth)
        tr1 = Trainer(m, data, loss='diag', lr=1e-3, batch_size=512, progress=False, seed=0, loss_opts=dict(p_uncond=0.1), out=out / 'diag', ckpt_every=10 ** 9)
        tr1.fit(a.diag_steps)
        return tr1
    t0 = time.time()
    if (out / 'model' / 'latest').exists(): model = load(out / 'model', device='cpu')
    else:
        tr1 = stage1()
        st = MetaDiscreteFlowMap.from_config(tr1.model.config()); st.load_state_dict(tr1.model.state_dict())
        tr = Trainer(st, data, loss='psd', lr=5e-4, batch_size=512, progress=False, seed=1, loss_opts=dict(p_uncond=0.1), grad_surgery=True,
                     out=out / 'model', ckpt_every=10 ** 9)
        tr.ema = {k: v.clone() for k, v in tr1.ema.items()}
        tr.fit(a.distill_steps)
        model = tr.ema_model()
    base = load(out / 'diag', device='cpu') if (out / 'diag' / 'latest').exists() else stage1().ema_model()
    print(f"models ready ({a.diag_steps} diag + {a.distill_steps} PSD steps) in {time.time() - t0:.0f}s", file=sys.stderr)
    model.eval()
    exact = ChainPosterior(chain)
    print(f"Markov chain K=5, L=6; reward = count of token 0, λ = {a.scale}; n = {a.n} samples, {a.steps} steps; "
          f"floor (n exact draws) {floor:.4f}; TV(base, tilted) {0.5 * (p - q).abs().sum().item():.4f}\n")
    print(row(['method', 'N', 'inner jumps', 'posterior (and base drift)', 'TV to tilted', '÷ floor', 'TV to base', 'NFE / sample', 'seconds']))
    print(row(['---'] * 9))
    runs = {'exact': [('none', 1, 1), ('mfm-gf', 4, 1), ('mfm-gf', 16, 1), ('mfm-gf', 64, 1), ('smc', 16, 1), ('best-of-n', 16, 1)],
            'MDFM': [('none', 1, 1), ('mfm-gf', 16, 1), ('mfm-g', 16, 1), ('smc', 16, 1)],
            'MDFM + stage-1 base': [('none', 1, 1), ('mfm-gf', 4, 1), ('mfm-gf', 16, 1), ('mfm-gf', 64, 1), ('mfm-gf', 16, 4), ('mfm-g', 4, 1),
                                    ('mfm-g', 16, 1), ('smc', 16, 1), ('best-of-n', 16, 1)]}
    base.eval()
    posts = {'exact': exact, 'MDFM': model, 'MDFM + stage-1 base': WithBase(base, model)}
    res = []
    for src, rows in runs.items():
        for method, N, inner in rows:
            t0 = time.time()
            try:
                x, info = steer(posts[src], count0, method, n=a.n, n_mc=N, steps=a.steps, scale=a.scale, sde='ancestral', inner_nfe=inner,
                                max_gain=a.max_gain, generator=torch.Generator().manual_seed(a.seed))
                tok = x.argmax(-1).cpu()
                tv, tvb = tv_to(tok, q, 5), tv_to(tok, p, 5)
                cells = [method, N, inner, src, f'{tv:.4f}', f'{tv / floor:.2f}', f'{tvb:.4f}', info['nfe'], f'{time.time() - t0:.1f}']
            except Exception as e:
                cells = [method, N, inner, src, f'failed: {e}', '', '', '', f'{time.time() - t0:.1f}']
            print(row(cells)); sys.stdout.flush(); res.append(cells)
    (out / 'chain.json').write_text(json.dumps(dict(floor=floor, rows=res)))


def run_text(a):
    from flowmaps_nb.textrewards import RegexCount, SoftKeyword, Sentiment, as_state_reward, text_quality
    from flowmaps_nb.evaluate import load_judge
    model = load(a.ckpt, device='cpu').eval()
    if a.base: model = WithBase(load(a.base, device='cpu').eval(), model)
    judge = load_judge()
    rewards = {'keyword "the"': (RegexCount('the'), SoftKeyword('the', model.vocab)), 'positive sentiment': (Sentiment('positive'), None)}
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    print(f"Shakespeare MDFM {a.ckpt} (L = {model.L}), base drift from {a.base or 'the same network'}; n = {a.n} samples per row, "
          f"K = {a.steps} steps, λ = {a.scale}\n")
    rows = [('none', 1, 1, False), ('mfm-gf', 4, 1, False), ('mfm-gf', 16, 1, False), ('mfm-gf', 16, 4, False), ('mfm-gf', 16, 1, 'ancestral'),
            ('mfm-gf', 16, 4, 'ancestral'), ('mfm-g', 4, 1, False), ('smc', 16, 1, 'ancestral'), ('best-of-n', 10, 1, False),
            ('best-of-n', 100, 1, False), ('best-of-n', 1000, 1, False)]
    if a.rows: rows = [(m, int(N), int(i), False if sde == 'ode' else sde) for m, N, i, sde in (r.split(':') for r in a.rows.split(','))]
    if a.rewards: rewards = {k: v for k, v in rewards.items() if k.split()[0] in a.rewards.split(',')}
    res = {}
    for rname, (black, soft) in rewards.items():
        print(f"\n**{rname}**\n")
        print(row(['method', 'N', 'inner jumps', 'sampler', 'mean reward', 'NFE / sample', 'gen. ppl', 'entropy', 'seconds']))
        print(row(['---'] * 9))
        for method, N, inner, sde in rows:
            if method == 'mfm-g' and soft is None: continue
            r_state = as_state_reward(soft if method == 'mfm-g' else black, model.vocab)
            r_eval = as_state_reward(black, model.vocab)
            n_row = min(a.n, max(1, a.max_rows // N)) if method == 'best-of-n' else a.n   # Best-of-1000 on fewer outputs (CPU time)
            chunk = max(1, a.chunk * 16 // N) if method == 'best-of-n' else a.chunk
            t0, xs, nfe = time.time(), [], None
            try:
                for i in range(0, n_row, chunk):
                    x, info = steer(model, r_state, method, n=min(chunk, n_row - i), n_mc=N, steps=a.steps, scale=a.scale, sde=sde, inner_nfe=inner,
                                    max_gain=a.max_gain, generator=torch.Generator().manual_seed(a.seed + i))
                    xs.append(x.detach()); nfe = info['nfe']
                x = torch.cat(xs)
                texts = model.decode(x.argmax(-1))
                rew = torch.as_tensor(r_eval(x)).float().mean().item()
                qual = text_quality(texts, judge)
                cells = [method if n_row == a.n else f'{method} ({n_row} outputs)', N, inner, sde or 'ode', f'{rew:.3f}', nfe, f"{qual['ppl']:.1f}", f"{qual['entropy']:.3f}", f'{time.time() - t0:.0f}']
                res.setdefault(rname, []).append(dict(method=method, N=N, inner=inner, sde=sde, reward=rew, nfe=nfe, **qual, samples=texts[:8]))
            except Exception as e:
                cells = [method, N, inner, sde or 'ode', f'failed: {e}', '', '', '', f'{time.time() - t0:.0f}']
            print(row(cells)); sys.stdout.flush()
            (out / 'text.json').write_text(json.dumps(res, indent=1))


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['chain', 'text'])
    ap.add_argument('--out', required=True)
    ap.add_argument('--ckpt', default='data/pretrained/mdfm_shakespeare')
    ap.add_argument('--base', help='text: checkpoint of the base drift (e.g. data/pretrained/mdfm_shakespeare_diag)')
    ap.add_argument('--n', type=int, default=4000)
    ap.add_argument('--steps', type=int, default=40)
    ap.add_argument('--scale', type=float, default=1.0)
    ap.add_argument('--inner-nfe', type=int, default=1)
    ap.add_argument('--max-gain', type=float, default=None)
    ap.add_argument('--hidden', type=int, default=256)
    ap.add_argument('--depth', type=int, default=4)
    ap.add_argument('--diag-steps', type=int, default=6000)
    ap.add_argument('--distill-steps', type=int, default=4000)
    ap.add_argument('--chunk', type=int, default=64)
    ap.add_argument('--rows', help='text: only these rows, e.g. mfm-g:4:1:ode,mfm-gf:16:4:ancestral')
    ap.add_argument('--rewards', help='text: only these rewards (keyword, positive)')
    ap.add_argument('--max-rows', type=int, default=8000, help='text: Best-of-N runs on at most max_rows / N outputs')
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    (run_chain if a.what == 'chain' else run_text)(a)
