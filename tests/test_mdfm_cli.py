"""End to end: train a meta discrete flow map on text from the command line, steer it with text rewards, bad inputs."""
import re
import pytest
from conftest import ROOT, run_cli

TEXT = 'the cat sat on the mat. a dog ran in the fog. ' * 40
TINY = ['--d', '16', '--layers', '1', '--heads', '2', '--batch-size', '16', '--no-progress']
REWARDS = '''
from flowmaps_nb.textrewards import RegexCount, SoftKeyword, soft_reward
def count_t(texts):                     # a black-box reward on strings
    return [t.count('t') for t in texts]
def wrong_length(texts):
    return [1.0]
def not_numbers(texts):
    return texts
cat = RegexCount('cat')
@soft_reward
def soft_t(x):                          # differentiable in the soft one-hot states [B, L, K]
    return x[..., VOCAB.index('t')].sum(-1)
VOCAB = sorted(set(%r))
''' % TEXT


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp('mdfm')
    (d / 'c.txt').write_text(TEXT)
    r = run_cli('flowmaps_train', 'mdfm', '--data', d / 'c.txt', '--seq-len', 12, '--out', d / 'run', '--diag-steps', 30, '--steps', 10, *TINY)
    assert r.returncode == 0, r.stderr
    assert 'trained mdfm/psd for 10 steps' in r.stdout, r.stdout
    r = run_cli('flowmaps_train', 'dfm', '--data', d / 'c.txt', '--seq-len', 12, '--out', d / 'plain', '--diag-steps', 10, '--loss', 'diag', *TINY)
    assert r.returncode == 0, r.stderr
    (d / 'rewards.py').write_text(REWARDS)
    return d


@pytest.mark.parametrize('method, extra, nfe', [
    ('none', [], 6), ('mfm-gf', ['--n-mc', '3'], 6 + 2 * 3 * 6), ('mfm-gf', ['--n-mc', '3', '--inner-nfe', '2'], 6 + 2 * 3 * 2 * 6),
    ('best-of-n', ['--n-mc', '4'], 6 * 4 + 4), ('smc', ['--n-mc', '3'], 2 * 3 * 6), ('search', ['--n-mc', '2', '--particles', '2'], 2 * 2 * 2 * 6),
    ('mfm-gf', ['--n-mc', '3', '--sde', 'ancestral'], 6 + 2 * 3 * 6)])
def test_steer_text_methods(trained, method, extra, nfe):
    out = trained / f'{method}.txt'
    r = run_cli('flowmaps_steer', trained / 'run', '--reward', f"{trained / 'rewards.py'}:count_t", '--method', method,
                '--n', 7, '--steps', 6, '--out', out, *extra)
    assert r.returncode == 0, r.stderr
    assert f'NFE per sample {nfe};' in r.stdout and 'unigram entropy' in r.stdout, r.stdout
    lines = out.read_text().splitlines()
    assert len(lines) == 7 and all(len(l) == 12 and set(l) <= set(TEXT) for l in lines), lines


def test_mean_reward_printed_is_the_reward_of_the_written_text(trained):
    out = trained / 'check.txt'
    r = run_cli('flowmaps_steer', trained / 'run', '--reward', f"{trained / 'rewards.py'}:count_t", '--method', 'mfm-gf',
                '--n', 9, '--n-mc', 2, '--steps', 4, '--out', out)
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    printed = float(re.search(r'mean reward (-?[\d.]+)', r.stdout).group(1))
    assert abs(printed - sum(l.count('t') for l in lines) / 9) < 1e-3, (printed, lines)


def test_soft_rewards_allow_gradient_methods(trained):
    for method, nfe in [('mfm-g', 5 + 4 * 2 * 5), ('dps', 4 * 5)]:
        r = run_cli('flowmaps_steer', trained / 'run', '--reward', f"{trained / 'rewards.py'}:soft_t", '--method', method,
                    '--n', 4, '--n-mc', 2, '--steps', 5, '--out', trained / 'g.txt')
        assert r.returncode == 0, r.stderr
        assert f'NFE per sample {nfe};' in r.stdout


def test_plain_dfm_runs_drift_only_methods(trained):
    r = run_cli('flowmaps_steer', trained / 'plain', '--reward', f"{trained / 'rewards.py'}:cat", '--method', 'smc',
                '--n', 4, '--n-mc', 2, '--steps', 4, '--out', trained / 'p.txt')
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize('args, msg', [
    (['run', 'count_t', '--out', 'x.npy'], 'must end in .txt for a mdfm model'),
    (['run', 'count_t', '--method', 'mfm-g'], 'needs a reward differentiable'),
    (['run', 'wrong_length'], 'returned shape (1,)'),
    (['run', 'not_numbers'], 'one number per string'),
    (['run', 'missing'], "no callable 'missing'"),
    (['plain', 'count_t', '--method', 'mfm-gf'], 'needs a model with sample_posterior'),
    (['run', 'count_t', '--inner-nfe', '0'], '--inner-nfe must be a positive integer'),
])
def test_bad_inputs_exit_2(trained, args, msg):
    ckpt, fn, *rest = args
    if '--out' not in rest: rest += ['--out', 'bad.txt']
    rest = [str(trained / v) if v.endswith(('.txt', '.npy')) else v for v in rest]
    r = run_cli('flowmaps_steer', trained / ckpt, '--reward', f"{trained / 'rewards.py'}:{fn}", '--n', 3, '--steps', 3, '--n-mc', 2, *rest)
    assert r.returncode == 2 and msg in r.stderr, (r.returncode, r.stderr)
    assert 'Traceback' not in r.stderr
    assert not (trained / 'bad.txt').exists() and not (trained / 'x.npy').exists()


def test_training_bad_inputs(trained, tmp_path):
    r = run_cli('flowmaps_train', 'mdfm', '--data', trained / 'c.txt', '--seq-len', 12, '--out', tmp_path / 'o', '--loss', 'euclidean', *TINY)
    assert r.returncode == 2 and 'invalid choice' in r.stderr
    r = run_cli('flowmaps_train', 'mdfm', '--data', trained / 'c.txt', '--seq-len', 12, '--out', tmp_path / 'o', '--p-uncond', '2', *TINY)
    assert r.returncode == 2 and '--p-uncond must lie in [0, 1]' in r.stderr
