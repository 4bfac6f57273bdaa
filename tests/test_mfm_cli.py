"""End to end: train a meta flow map from the command line, steer it with a user reward file, and the bad inputs."""
import re
import numpy as np
import pytest
import torch
from conftest import ROOT, run_cli

TINY = ['--hidden', '32', '--depth', '1', '--no-progress', '--batch-size', '128']
REWARDS = '''
import torch
def gauss_obs(x):                       # log N(-1; 1.2 x0 - 0.8 x1, 0.5^2)
    return -0.5 * (-1.0 - (1.2 * x[:, 0] - 0.8 * x[:, 1])) ** 2 / 0.25
def nan_reward(x):
    return x[:, 0] * float('nan')
def wrong_shape(x):
    return x
def black_box(x):                       # leaves torch: fine for mfm-gf, refused by mfm-g
    return torch.tensor(x.detach().numpy()[:, 0] * 0 + (x.detach().numpy()[:, 0] < 0))
def grad_free_numpy(x):
    return torch.tensor(x.numpy()[:, 0])
'''


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp('mfm')
    r = run_cli('flowmaps_train', 'mfm', '--data', 'gmm3', '--out', d / 'run', '--steps', '300', '--lr', '2e-3', *TINY)
    assert r.returncode == 0, r.stderr
    assert 'trained mfm/psd for 300 steps' in r.stdout
    (d / 'rewards.py').write_text(REWARDS)
    return d


@pytest.mark.parametrize('method, extra, nfe', [
    ('none', [], 10), ('mfm-gf', ['--n-mc', '4'], 10 + 2 * 4 * 10), ('mfm-g', ['--n-mc', '2'], 10 + 4 * 2 * 10),
    ('dps', ['--max-gain', '10'], 40), ('best-of-n', ['--n-mc', '5'], 10 * 5 + 5), ('smc', ['--n-mc', '4'], 2 * 4 * 10),
    ('search', ['--n-mc', '3', '--particles', '2'], 2 * 2 * 3 * 10), ('mfm-gf', ['--n-mc', '4', '--sde', '--renorm'], 10 + 2 * 4 * 10)])
def test_steer_methods(trained, method, extra, nfe):
    out = trained / f'{method}.npy'
    r = run_cli('flowmaps_steer', trained / 'run', '--reward', f"{trained / 'rewards.py'}:gauss_obs", '--method', method,
                '--n', 40, '--steps', 10, '--out', out, *extra)
    assert r.returncode == 0, r.stderr
    assert f'NFE per sample {nfe};' in r.stdout, r.stdout
    x = np.load(out)
    assert x.shape == (40, 2) and np.isfinite(x).all()


def test_steering_raises_the_reward(trained):
    "With the shipped pretrained meta flow map, steered samples score far higher than unsteered ones (same seed)."
    means = {}
    for method in ['none', 'mfm-gf']:
        r = run_cli('flowmaps_steer', ROOT / 'data' / 'pretrained' / 'mfm_gmm3', '--reward', f"{trained / 'rewards.py'}:gauss_obs", '--method', method,
                    '--n', 300, '--n-mc', 16, '--steps', 40, '--out', trained / f'm_{method}.npy')
        assert r.returncode == 0, r.stderr
        means[method] = float(re.search(r'mean reward (-?[\d.]+)', r.stdout).group(1))
    assert means['mfm-gf'] > means['none'] + 5.0, means


def test_black_box_reward_works_gradient_free_only(trained):
    common = ['--n', 20, '--steps', 5, '--n-mc', 4, '--out', trained / 'bb.npy']
    rw = f"{trained / 'rewards.py'}:black_box"
    assert run_cli('flowmaps_steer', trained / 'run', '--reward', rw, '--method', 'mfm-gf', *common).returncode == 0
    r = run_cli('flowmaps_steer', trained / 'run', '--reward', f"{trained / 'rewards.py'}:grad_free_numpy", '--method', 'mfm-g', *common)
    assert r.returncode == 2 and 'differentiable' in r.stderr and 'Traceback' not in r.stderr, r.stderr


@pytest.mark.parametrize('reward, args, message', [
    ('nan_reward', [], 'NaN'),
    ('wrong_shape', [], 'one log-reward per sample'),
    ('missing', [], "no callable 'missing'"),
    ('gauss_obs', ['--scale', '-1'], 'scale'),
    ('gauss_obs', ['--n', '0'], 'n must be a positive integer'),
    ('gauss_obs', ['--out', 'x.txt'], 'must end in .npy'),
])
def test_steer_bad_input(trained, reward, args, message):
    base = ['--n', 8, '--steps', 3, '--out', trained / 'bad.npy']
    r = run_cli('flowmaps_steer', trained / 'run', '--reward', f"{trained / 'rewards.py'}:{reward}", *base, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not (trained / 'bad.npy').exists()


def test_mfm_methods_need_a_meta_flow_map(tmp_path, trained):
    r = run_cli('flowmaps_train', 'flow', '--data', 'gmm3', '--out', tmp_path / 'flow', '--steps', '5', *TINY)
    assert r.returncode == 0, r.stderr
    rw = f"{trained / 'rewards.py'}:gauss_obs"
    r = run_cli('flowmaps_steer', tmp_path / 'flow', '--reward', rw, '--method', 'mfm-gf', '--n', 4, '--out', tmp_path / 'x.npy')
    assert r.returncode == 2 and 'needs a model with sample_posterior' in r.stderr, r.stderr
    r = run_cli('flowmaps_steer', tmp_path / 'flow', '--reward', rw, '--method', 'dps', '--n', 4, '--steps', 3, '--out', tmp_path / 'x.npy')
    assert r.returncode == 0, r.stderr


def test_posterior_api_after_cli_training(trained):
    "flowmaps_nb.load(DIR).sample_posterior works on the CLI's checkpoint, and checks its inputs."
    import flowmaps_nb
    from flowmaps_nb.core import FlowMapsError
    m = flowmaps_nb.load(trained / 'run')
    d = m.sample_posterior(torch.zeros(3, 2), 0.5, 7)
    assert d.shape == (3, 7, 2) and torch.isfinite(d).all()
    with pytest.raises(FlowMapsError, match='per-sample shape'): m.sample_posterior(torch.zeros(3, 5), 0.5, 2)
    with pytest.raises(FlowMapsError, match=r'\[0, 1\)'): m.sample_posterior(torch.zeros(3, 2), 1.5, 2)
