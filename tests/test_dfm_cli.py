"""End-to-end tests of the discrete flow map commands: two-stage training, sampling to text, resume, bad input."""
from pathlib import Path
import numpy as np
import pytest
from conftest import run_cli

TINY = ['--d', '16', '--layers', '1', '--heads', '2', '--batch-size', '8', '--no-progress']
TEXT = 'to be or not to be, that is the question.\n' * 30


@pytest.fixture
def corpus(tmp_path):
    p = tmp_path / 'c.txt'; p.write_text(TEXT); return p


@pytest.mark.parametrize('loss', ['psd', 'esd', 'lsd', 'euclidean', 'diag'])
def test_dfm_train_and_sample(tmp_path, corpus, loss):
    out = tmp_path / 'run'
    r = run_cli('flowmaps_train', 'dfm', '--data', corpus, '--seq-len', 12, '--out', out, '--loss', loss,
                '--diag-steps', 4, '--steps', 3, *TINY)
    assert r.returncode == 0, r.stderr
    assert f'trained dfm/{loss}' in r.stdout
    r = run_cli('flowmaps_sample', out, '--n', 6, '--nfe', 2, '--out', tmp_path / 's.txt')
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / 's.txt').read_text().split('\n')[:-1]
    assert len(lines) == 6
    for l in lines:
        text = l.replace('\\n', '\n')
        assert len(text) == 12 and set(text) <= set(TEXT)
    r = run_cli('flowmaps_sample', out, '--n', 3, '--nfe', 2, '--method', 'euler', '--out', tmp_path / 'e.txt')
    assert r.returncode == 0, r.stderr


def test_dfm_lines_mode_and_resume(tmp_path):
    p = tmp_path / 'lines.txt'; p.write_text('abcd\nbcda\n\ncdab\n' * 10)
    common = ['--data', p, '--lines', '--seq-len', 4, '--loss', 'psd', *TINY, '--ckpt-every', 2]
    out = tmp_path / 'run'
    assert run_cli('flowmaps_train', 'dfm', '--out', out, '--diag-steps', 4, '--steps', 4, *common).returncode == 0
    r = run_cli('flowmaps_train', 'dfm', '--out', out, '--diag-steps', 4, '--steps', 8, '--resume', '--no-progress')
    assert r.returncode == 0, r.stderr
    assert 'resuming distillation at step 4' in r.stderr and 'for 8 steps' in r.stdout
    import flowmaps_nb
    m = flowmaps_nb.load(out)
    assert m.kind == 'dfm' and m.vocab == ['a', 'b', 'c', 'd'] and m.L == 4


@pytest.mark.parametrize('write, args, message', [
    (lambda p: p.write_text('abcd\nabc\n'), ['--lines', '--seq-len', '4'], 'every line must have length L=4'),
    (lambda p: p.write_text('short'), ['--seq-len', '64'], 'larger than the corpus'),
    (None, ['--seq-len', '4'], 'text file not found'),
    (lambda p: p.write_text('abcdabcd'), [], '--data and --seq-len are required'),
])
def test_dfm_bad_input(tmp_path, write, args, message):
    p = tmp_path / 'c.txt'
    if write: write(p)
    r = run_cli('flowmaps_train', 'dfm', '--data', p, '--out', tmp_path / 'run', *args, *TINY)
    assert r.returncode == 2 and message in r.stderr and 'Traceback' not in r.stderr, r.stderr


def test_vocabulary_mismatch_is_a_clear_error(tmp_path, corpus):
    "Text outside the model's vocabulary (e.g. a prompt to encode) names the offending characters."
    out = tmp_path / 'run'
    assert run_cli('flowmaps_train', 'dfm', '--data', corpus, '--seq-len', 8, '--out', out, '--loss', 'diag', '--diag-steps', 2, *TINY).returncode == 0
    import flowmaps_nb
    from flowmaps_nb.core import FlowMapsError
    m = flowmaps_nb.load(out)
    with pytest.raises(FlowMapsError, match=r"outside the model's vocabulary: \['!', 'Z'\]"):
        m.encode(['to be Z!'])
    with pytest.raises(FlowMapsError, match='has length 3'):
        m.encode(['abc'])
    r = run_cli('flowmaps_sample', out, '--n', 2, '--out', tmp_path / 'x.npy')
    assert r.returncode == 2 and "must end in .txt for a 'dfm' model" in r.stderr
