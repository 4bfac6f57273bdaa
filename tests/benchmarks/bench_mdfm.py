"""Steering one-step text: meta discrete flow maps (MDFM). Prints markdown tables; results go to RESULTS.md §6.

  python tests/benchmarks/bench_mdfm.py chain --out outputs/bench_mdfm_chain     # exact Markov chain, TV to the tilted law
  python tests/benchmarks/bench_mdfm.py text --ckpt data/pretrained/mdfm_shakespeare --out outputs/bench_mdfm_text

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
from flowmaps_nb.steering import steer
from flowmaps_nb.train import Trainer, load


def row(cells): return '| ' + ' | '.join(str(c) for c in cells) + ' |'


def run_chain(a):
    chain = MarkovChain.random(K=5, L=6, n_next=2, seed=0)
    count0 = lambda x: x[..., 0].sum(-1)
    _, p = chain.enumerate()
    _, q = tilted_chain(chain, count0, a.scale)
    floor = expected_tv_floor(q, a.n)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    ck = out / 'model'
    if (ck / 'latest').exists():
        model = load(ck, device='cpu')
    else:
        data = chain.sample(100000, torch.Generator().manual_seed(0))
        torch.manual_seed(0)
        m = MetaDiscreteFlowMap.for_data(6, 5, net='seqmlp', hidden=a.hidden, depth=a.depth)
        t0 = time.time()
        tr1 = Trainer(m, data, loss='diag', lr=1e-3, batch_size=512, progress=False, seed=0, loss_opts=dict(p_uncond=0.1))
        tr1.fit(a.diag_steps)
        st = MetaDiscreteFlowMap.from_config(m.config()); st.load_state_dict(tr1.model.state_dict())
        tr = Trainer(st, data, loss='psd', lr=5e-4, batch_size=512, progress=False, seed=1, loss_opts=dict(p_uncond=0.1), grad_surgery=True, out=ck,
                     ckpt_every=10 ** 9)
        tr.ema = {k: v.clone() for k, v in tr1.ema.items()}
        tr.fit(a.distill_steps)
        print(f"trained MDFM ({a.diag_steps} diag + {a.distill_steps} PSD steps) in {time.time() - t0:.0f}s", file=sys.stderr)
        model = tr.ema_model()
    model.eval()
    exact = ChainPosterior(chain)
    print(f"Markov chain K=5, L=6; reward = count of token 0, λ = {a.scale}; n = {a.n} samples, {a.steps} steps; "
          f"floor (n exact draws) {floor:.4f}; TV(base, tilted) {0.5 * (p - q).abs().sum().item():.4f}\n")
    print(row(['method', 'N', 'posterior', 'TV to tilted', '÷ floor', 'TV to base', 'NFE / sample', 'seconds']))
    print(row(['---'] * 8))
    runs = [('none', 1), ('mfm-gf', 4), ('mfm-gf', 16), ('mfm-gf', 64), ('mfm-g', 4), ('mfm-g', 16), ('smc', 16), ('best-of-n', 16)]
    res = []
    for src, post in [('exact', exact), ('MDFM', model)]:
        for method, N in runs:
            if method == 'mfm-g' and src == 'exact': continue      # FFBS draws are not differentiable in x_t
            if src == 'MDFM' and method in ('none',): pass
            t0 = time.time()
            try:
                x, info = steer(post, count0, method, n=a.n, n_mc=N, steps=a.steps, scale=a.scale, sde='ancestral',
                                inner_nfe=a.inner_nfe if src == 'MDFM' else 1, max_gain=a.max_gain, generator=torch.Generator().manual_seed(a.seed))
                tok = x.argmax(-1).cpu()
                tv, tvb = tv_to(tok, q, 5), tv_to(tok, p, 5)
                cells = [method, N, src, f'{tv:.4f}', f'{tv / floor:.2f}', f'{tvb:.4f}', info['nfe'], f'{time.time() - t0:.1f}']
            except Exception as e:
                cells = [method, N, src, f'failed: {e}', '', '', '', f'{time.time() - t0:.1f}']
            print(row(cells)); sys.stdout.flush(); res.append(cells)
    (out / 'chain.json').write_text(json.dumps(dict(floor=floor, rows=res)))


def run_text(a):
    from flowmaps_nb.textrewards import RegexCount, SoftKeyword, Sentiment, as_state_reward, text_quality
    from flowmaps_nb.evaluate import load_judge
    model = load(a.ckpt, device='cpu').eval()
    judge = load_judge()
    rewards = {'keyword "the"': (RegexCount('the'), SoftKeyword('the', model.vocab)), 'positive sentiment': (Sentiment('positive'), None)}
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    print(f"Shakespeare MDFM (L = {model.L}); n = {a.n} samples per row, K = {a.steps} steps, λ = {a.scale}\n")
    base_rows = [('none', 1, 'ode'), ('mfm-gf', 4, 'ode'), ('mfm-gf', 16, 'ode'), ('mfm-gf', 16, 'ancestral'), ('mfm-g', 4, 'ode'),
                 ('smc', 16, 'ancestral'), ('best-of-n', 10, 'ode'), ('best-of-n', 100, 'ode'), ('best-of-n', 1000, 'ode')]
    res = {}
    for rname, (black, soft) in rewards.items():
        print(f"\n**{rname}**\n")
        print(row(['method', 'N', 'sampler', 'mean reward', 'NFE / sample', 'gen. ppl', 'entropy', 'seconds']))
        print(row(['---'] * 8))
        for method, N, sde in base_rows:
            if method == 'mfm-g' and soft is None: continue
            r_fn = soft if method == 'mfm-g' else black
            r_state = as_state_reward(r_fn, model.vocab)
            r_eval = as_state_reward(black, model.vocab)
            t0 = time.time()
            xs, nfe = [], None
            try:
                for i in range(0, a.n, a.chunk if method != 'best-of-n' else max(1, a.chunk // N * 4)):
                    m = min(a.n - i, a.chunk if method != 'best-of-n' else max(1, a.chunk // N * 4))
                    x, info = steer(model, r_state, method, n=m, n_mc=N, steps=a.steps, scale=a.scale, sde=sde if sde != 'ode' else False,
                                    max_gain=a.max_gain, generator=torch.Generator().manual_seed(a.seed + i))
                    xs.append(x.detach()); nfe = info['nfe']
                x = torch.cat(xs)
                texts = model.decode(x.argmax(-1))
                rew = torch.as_tensor(r_eval(x)).float().mean().item()
                qual = text_quality(texts, (judge[0], judge[1]))
                cells = [method, N, sde, f'{rew:.3f}', nfe, f"{qual['ppl']:.1f}", f"{qual['entropy']:.3f}", f'{time.time() - t0:.0f}']
                res.setdefault(rname, []).append(dict(method=method, N=N, sde=sde, reward=rew, nfe=nfe, **qual, samples=texts[:8]))
            except Exception as e:
                cells = [method, N, sde, f'failed: {e}', '', '', '', f'{time.time() - t0:.0f}']
            print(row(cells)); sys.stdout.flush()
        (out / 'text.json').write_text(json.dumps(res, indent=1))


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('what', choices=['chain', 'text'])
    ap.add_argument('--out', required=True)
    ap.add_argument('--ckpt', default='data/pretrained/mdfm_shakespeare')
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
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    (run_chain if a.what == 'chain' else run_text)(a)
