"""Meta flow maps at our scale: posterior fidelity, steering to an exact target, fine-tuning, digits.
Prints markdown tables; the results and these exact commands are recorded in RESULTS.md.

  flowmaps_train mfm --data gmm3 --out runs/mfm_gmm3 --steps 20000 --hidden 256 --depth 4 --ckpt-every 1000
  python tests/benchmarks/bench_mfm.py posterior --ckpt runs/mfm_gmm3
  python tests/benchmarks/bench_mfm.py estimators --ckpt runs/mfm_gmm3
  python tests/benchmarks/bench_mfm.py steer     --ckpt runs/mfm_gmm3 [--methods ...]
  python tests/benchmarks/bench_mfm.py finetune  --ckpt runs/mfm_gmm3
  flowmaps_train mfm --data digits --out runs/mfm_digits --steps 6000 --base 32 --batch-size 128 --lr 1e-3
  python tests/benchmarks/bench_mfm.py digits    --ckpt runs/mfm_digits
(2 CPU cores, OMP_NUM_THREADS=1 per process; add --device cuda on a GPU.)
"""
import argparse, math, time
import torch
from flowmaps_nb.core import FlowMapsError
from flowmaps_nb.data import paper_gmm
from flowmaps_nb.metrics import sliced_w2, mmd_rbf
from flowmaps_nb.steering import GaussianObservation, ClassMixture, steer
from flowmaps_nb.train import load

A, SIGMA, Y = torch.tensor([1.2, -0.8]), 0.2, -1.0


def posterior(args):
    "Sliced W2 and MMD between one-call MFM posterior draws and exact draws, beside the exact-vs-exact floor."
    gm, model = paper_gmm(), load(args.ckpt, device=args.device)
    n = args.n
    probes = torch.tensor([[-3., -3.], [0., 0.], [3., 3.], [1.5, -1.5], [-1.5, 0.5]])
    print(f"posterior fidelity, {n} draws per (t, x_t); x_t = t·probe (a point typical for that t) ; model {args.ckpt}\n")
    print('| t | x_t | sliced W2 MFM (1 call) | floor | ratio | ratio, 2 inner steps | MMD MFM | MMD floor |\n|---|---|---|---|---|---|---|---|')
    ratios = []
    for t in (0.2, 0.5, 0.8):
        for p in probes:
            xt = (t * p)[None]
            with torch.no_grad(): d = model.sample_posterior(xt.to(model.device), t, n, generator=torch.Generator(model.device).manual_seed(1))[0].cpu()
            e1 = gm.sample_posterior(xt, t, n, torch.Generator().manual_seed(2))[0]
            e2 = gm.sample_posterior(xt, t, n, torch.Generator().manual_seed(3))[0]
            with torch.no_grad(): d2 = model.sample_posterior(xt.to(model.device), t, n, nfe=2, generator=torch.Generator(model.device).manual_seed(1))[0].cpu()
            sw, fl = sliced_w2(d, e1), sliced_w2(e2, e1)
            ratios.append(sw / fl)
            print(f"| {t} | ({xt[0, 0]:.2f}, {xt[0, 1]:.2f}) | {sw:.4f} | {fl:.4f} | {sw / fl:.2f} | {sliced_w2(d2, e1) / fl:.2f} | {mmd_rbf(d, e1, max_n=2000):.5f} | {mmd_rbf(e2, e1, max_n=2000):.5f} |")
    print(f"\nratio to floor: median {sorted(ratios)[len(ratios) // 2]:.2f}, max {max(ratios):.2f}; within 2x at {sum(r <= 2 for r in ratios)}/{len(ratios)} probes")


def steer_table(args):
    "Sliced W2 to the exact tilted target vs NFE for every method, same base model, same seeds."
    SIGMA = args.sigma
    gm, model = paper_gmm(), load(args.ckpt, device=args.device)
    rew = GaussianObservation(A, SIGMA, Y)
    n, K = args.n, args.steps
    target = gm.sample_tilted(torch.zeros(1, 2), 0., 4000, A, SIGMA, Y, generator=torch.Generator().manual_seed(5))[0]
    floor = sliced_w2(gm.sample_tilted(torch.zeros(1, 2), 0., n, A, SIGMA, Y, generator=torch.Generator().manual_seed(6))[0], target)
    oracle = dict()
    runs = [('none', {}), ('dps', dict(max_gain=10.)), ('dps', {}),
            *[('mfm-g', dict(n_mc=k)) for k in (1, 4, 16)], *[('mfm-g', dict(n_mc=k, max_gain=10.)) for k in (1, 4, 16)],
            *[('mfm-gf', dict(n_mc=k)) for k in (1, 4, 16)],
            ('smc', dict(n_mc=16)), *[('best-of-n', dict(n_mc=k)) for k in (4, 16, 64)], ('search', dict(n_mc=4, particles=4))]
    if args.methods: runs = [r for r in runs if r[0] in args.methods.split(',')]
    print(f"steering to the exact tilted target: r = log N(y; aᵀx, σ²), a = (1.2, −0.8), σ = {SIGMA}, y = {Y}, λ = 1; "
          f"K = {K} Euler steps from t = 0.01; {n} samples vs 4000 exact target draws; floor (exact {n} vs 4000) = {floor:.4f}; model {args.ckpt}\n")
    print('| method | options | NFE / sample | sliced W2 | ÷ floor | mean reward | time s |\n|---|---|---|---|---|---|---|')
    print(f"| exact target | — | — | {floor:.4f} | 1.00 | {rew(target[:n]).mean():.3f} | — |")
    for method, kw in runs:
        t0 = time.time()
        opts = ', '.join(f'{k}={v}' for k, v in kw.items()) or '—'
        try: x, info = steer(model, rew, method, n=n, steps=K, generator=torch.Generator(model.device).manual_seed(0), **kw)
        except FlowMapsError as e:
            print(f"| {method} | {opts} | — | diverged | — | — | {time.time() - t0:.0f} |", flush=True); continue
        x = x.detach().cpu()
        ok = torch.isfinite(x).all(1)
        sw = sliced_w2(x[ok], target) if ok.sum() > 10 else float('nan')
        print(f"| {method} | {opts} | {info['nfe']} | {sw:.4f} | {sw / floor:.2f} | {rew(x[ok]).mean():.3f} | {time.time() - t0:.0f} |", flush=True)
    # the same samplers driven by the exact posterior (a perfect meta flow map) separate estimator error from model error
    print('\nwith the exact posterior and drift of the mixture in place of the trained model (no training error):\n')
    print('| method | options | NFE / sample | sliced W2 | ÷ floor | mean reward |\n|---|---|---|---|---|---|')
    for method, kw in [('none', {}), ('mfm-gf', dict(n_mc=4)), ('mfm-gf', dict(n_mc=16)), ('smc', dict(n_mc=16)), ('best-of-n', dict(n_mc=64))]:
        if args.methods and method not in args.methods.split(','): continue
        x, info = steer(gm, rew, method, n=n, steps=K, generator=torch.Generator().manual_seed(0), **kw)
        sw = sliced_w2(x, target)
        print(f"| {method} | {', '.join(f'{k}={v}' for k, v in kw.items()) or '—'} | {info['nfe']} | {sw:.4f} | {sw / floor:.2f} | {rew(x).mean():.3f} |", flush=True)


def finetune_table(args):
    "MFM-FT on the mixture: the fine-tuned drift's plain ODE samples vs the exact tilted target."
    from flowmaps_nb.finetune import finetune
    from flowmaps_nb.data import load_data
    gm, model = paper_gmm(), load(args.ckpt, device=args.device)
    rew = GaussianObservation(A, SIGMA, Y)
    n, K = args.n, args.steps
    target = gm.sample_tilted(torch.zeros(1, 2), 0., 4000, A, SIGMA, Y, generator=torch.Generator().manual_seed(5))[0]
    floor = sliced_w2(gm.sample_tilted(torch.zeros(1, 2), 0., n, A, SIGMA, Y, generator=torch.Generator().manual_seed(6))[0], target)
    data = load_data('gmm3', 50000, seed=0)
    print(f"MFM-FT: fine-tune the base drift for λ = 1 (reward as in `steer`), then sample its plain ODE (K = {K}); floor {floor:.4f}\n")
    print('| fine-tuning steps | lr | sliced W2 | ÷ floor | mean reward | train time s |\n|---|---|---|---|---|---|')
    x = model.sample(n, nfe=K, method='euler', generator=torch.Generator(model.device).manual_seed(0)).cpu()
    print(f"| 0 (base) | — | {sliced_w2(x, target):.4f} | {sliced_w2(x, target) / floor:.2f} | {rew(x).mean():.3f} | — |")
    done, tr, t0 = 0, None, time.time()
    for steps in args.ft_steps:
        if tr is None: tr = finetune(model, rew, data, steps=steps, lr=args.lr, batch_size=512, device=args.device, progress=False)
        else: tr.fit(steps)
        x = tr.ema_model().sample(n, nfe=K, method='euler', generator=torch.Generator(model.device).manual_seed(0)).cpu()
        sw = sliced_w2(x, target)
        print(f"| {steps} | {args.lr} | {sw:.4f} | {sw / floor:.2f} | {rew(x).mean():.3f} | {time.time() - t0:.0f} |", flush=True)


def digits(args):
    "Class histogram of steered digits vs the target weights (L2) and reward maximisation vs NFE."
    from flowmaps_nb.classifier import load_classifier
    model, clf = load(args.ckpt, device=args.device), load_classifier('digits', device=args.device)
    w = torch.tensor([0, 1, 0, 1, 0, 2, 0, 2, 0, 4.]); w = w / w.sum()
    rew = ClassMixture(clf, w)
    n, K = args.n, args.steps
    def hist(x):
        with torch.no_grad(): c = clf.log_probs(x).argmax(1).cpu()
        return torch.bincount(c, minlength=10).float() / len(c)
    print(f"digits (8×8): r = log Σ w_i p(i|x), w ∝ [0,1,0,1,0,2,0,2,0,4]; {n} samples ({args.bon_n} for Best-of-N), K = {K}; "
          f"classifier data/classifier_digits; model {args.ckpt}\n")
    for lam in args.scales:
        print(f"\nλ = {lam}\n\n| method | options | NFE / sample | L2(class hist, w) | mean reward | mean max log p | time s |\n|---|---|---|---|---|---|---|")
        runs = [('none', {}), ('dps', dict(max_gain=10.)), *[('mfm-g', dict(n_mc=k, max_gain=10.)) for k in (1, 4)],
                *[('mfm-gf', dict(n_mc=k)) for k in (4, 16)], ('smc', dict(n_mc=16)), *[('best-of-n', dict(n_mc=k)) for k in args.bon]]
        if args.methods: runs = [r for r in runs if r[0] in args.methods.split(',')]
        for method, kw in runs:
            t0 = time.time()
            rows = min(n, args.bon_n) if method == 'best-of-n' else n      # Best-of-N costs N·K per output: fewer outputs
            try: x, info = steer(model, rew, method, n=rows, steps=K, scale=lam, generator=torch.Generator(model.device).manual_seed(0), **kw)
            except FlowMapsError:
                print(f"| {method} | {', '.join(f'{k}={v}' for k, v in kw.items()) or '—'} | — | diverged | — | — | {time.time() - t0:.0f} |", flush=True); continue
            x = x.detach().clamp(-1, 1)
            with torch.no_grad(): r, conf = rew(x).mean().item(), clf.log_probs(x).max(1).values.mean().item()
            print(f"| {method} | {', '.join(f'{k}={v}' for k, v in kw.items()) or '—'} | {info['nfe']} | {(hist(x) - w).norm():.3f} | {r:.3f} | {conf:.3f} | {time.time() - t0:.0f} |", flush=True)


def estimators(args):
    "Each steering-term estimator against the exact (σ_t²/2)∇V_t at points x_t drawn from the base marginal p_t."
    from flowmaps_nb.steering import steering_term
    gm, model = paper_gmm(), load(args.ckpt, device=args.device)
    rew = GaussianObservation(A, SIGMA, Y)
    print(f"steering-term estimators vs the exact (E*[x1|x] - E[x1|x])/(1 - t), 400 points x_t ~ p_t per t; model {args.ckpt}\n")
    cols = [('mfm-gf', 4), ('mfm-gf', 16), ('mfm-g', 4), ('mfm-g', 16), ('mfm-g', 256), ('dps', 1)]
    print('| t | mean norm, exact | ' + ' | '.join(f'{m} N={n}: norm / cos' for m, n in cols) + ' |\n|---|---|' + '---|' * len(cols))
    for t in (0.01, 0.03, 0.1, 0.3, 0.6, 0.9):
        x = (1 - t) * torch.randn(400, 2, generator=torch.Generator().manual_seed(0)) + t * gm.sample(400, torch.Generator().manual_seed(1))
        tw, tm, _, _ = gm.tilted_posterior(x, t, A, SIGMA, Y)
        ex = (((tw.exp()[..., None] * tm).sum(1)).float() - gm.denoiser(x, t)) / (1 - t)
        cells = []
        for meth, n in cols:
            g = steering_term(model, rew, x.to(model.device), t, meth, n, generator=torch.Generator(model.device).manual_seed(2)).detach().cpu()
            cells.append(f"{g.norm(dim=1).mean():.2f} / {torch.nn.functional.cosine_similarity(g, ex, dim=1).mean():.2f}")
        print(f"| {t} | {ex.norm(dim=1).mean():.2f} | " + ' | '.join(cells) + ' |', flush=True)


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('what', choices=['posterior', 'estimators', 'steer', 'finetune', 'digits'])
    p.add_argument('--ckpt', required=True)
    p.add_argument('--n', type=int, default=1000)
    p.add_argument('--steps', type=int, default=100)
    p.add_argument('--methods', help='comma-separated subset of methods')
    p.add_argument('--sigma', type=float, default=SIGMA, help='steer: observation noise σ of the reward (0.2: the paper; 1.0: a broad target over several modes)')
    p.add_argument('--ft-steps', type=int, nargs='+', default=[500, 1500, 3000])
    p.add_argument('--lr', type=float, default=1e-4)
    p.add_argument('--scales', type=float, nargs='+', default=[1.0, 10.0])
    p.add_argument('--bon', type=int, nargs='+', default=[10, 100, 1000])
    p.add_argument('--bon-n', type=int, default=64, help='digits: outputs for the Best-of-N rows')
    p.add_argument('--device', default='cpu')
    a = p.parse_args()
    torch.manual_seed(0)
    {'posterior': posterior, 'estimators': estimators, 'steer': steer_table, 'finetune': finetune_table, 'digits': digits}[a.what](a)
