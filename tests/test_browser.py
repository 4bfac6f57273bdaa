"""A real browser drives the live steering notebook: JupyterLab on loopback, Playwright + Debian's Chromium.

Opens nbs/23_steering_live.ipynb, runs all cells, moves the λ slider of the first dashboard with the keyboard and
checks that the plot (its title carries the mean reward) and the readout updated; saves a screenshot.
Skips with a clear message only where no browser is installed (`.ci/run` installs one: apt-get install chromium).
"""
import json, os, secrets, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path
import pytest
from conftest import BIN, ROOT

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
NOTEBOOK = 'nbs/23_steering_live.ipynb'


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _get(url, token, data=None, method='GET'):
    req = urllib.request.Request(url, data=data, method=method, headers={'Authorization': f'token {token}'})
    with urllib.request.urlopen(req, timeout=5) as r: return json.loads(r.read() or b'null')


@pytest.fixture
def lab(tmp_path):
    pytest.importorskip('playwright', reason='playwright is not installed (pip install playwright)')
    if not Path(CHROMIUM).exists(): pytest.skip('no Chromium at /usr/bin/chromium: apt-get install chromium (done by .ci/run) to run the browser test')
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    for var in ['JUPYTERLAB_SETTINGS_DIR', 'JUPYTERLAB_WORKSPACES_DIR', 'JUPYTER_CONFIG_DIR', 'JUPYTER_RUNTIME_DIR', 'IPYTHONDIR']:
        env[var] = str(tmp_path / var.lower()); Path(env[var]).mkdir()
    settings = Path(env['JUPYTERLAB_SETTINGS_DIR'])
    (settings / '@jupyterlab' / 'notebook-extension').mkdir(parents=True)
    (settings / '@jupyterlab' / 'notebook-extension' / 'tracker.jupyterlab-settings').write_text('{"autoStartDefaultKernel": true}')
    (settings / '@jupyterlab' / 'apputils-extension').mkdir(parents=True)
    (settings / '@jupyterlab' / 'apputils-extension' / 'notification.jupyterlab-settings').write_text('{"fetchNews": "false", "checkForUpdates": false}')
    root = tmp_path / 'root'; (root / 'nbs').mkdir(parents=True)       # a copy: autosave never touches the repository
    shutil.copy(ROOT / NOTEBOOK, root / NOTEBOOK)
    cmd = [str(BIN / 'jupyter'), 'lab', '--no-browser', '--allow-root', f'--ServerApp.port={port}', '--ServerApp.ip=127.0.0.1',
           '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}']
    proc = subprocess.Popen(cmd, env=env, stdout=open(tmp_path / 'lab.log', 'w'), stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try: _get(f'{base}/api/status', token); break
            except Exception: time.sleep(0.5)
        else: pytest.fail(f'JupyterLab did not start: {(tmp_path / "lab.log").read_text()[-2000:]}')
        yield base, token
    finally:
        try: _get(f'{base}/api/shutdown', token, data=b'', method='POST')
        except Exception: pass
        try: proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try: proc.wait(5)
            except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL)


def test_slider_updates_plot(lab, tmp_path):
    from playwright.sync_api import sync_playwright, expect
    base, token = lab
    expect.set_options(timeout=120_000)
    args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync']
    shot = ROOT / 'outputs' / 'browser_steering_live.png'
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            page = browser.new_page(viewport={'width': 1400, 'height': 1000})
            page.goto(f'{base}/lab/tree/{NOTEBOOK}?token={token}')
            for _ in range(240):                                    # the kernel is up and idle
                sessions = _get(f'{base}/api/sessions', token)
                if any(s['path'].endswith('23_steering_live.ipynb') and s['kernel']['execution_state'] == 'idle' for s in sessions): break
                time.sleep(0.5)
            else: pytest.fail(f'no idle kernel for the notebook: {sessions}')
            page.locator('#jp-MainMenu .lm-MenuBar-itemLabel', has_text='Run').click()
            page.locator('.lm-Menu .lm-Menu-itemLabel', has_text='Run All Cells').first.click()
            expect(page.locator('.fm-readout')).to_have_count(3)        # both dashboards and the explorer are up
            time.sleep(1)
            for _ in range(240):                                        # and the kernel finished the test cells
                if all(s['kernel']['execution_state'] == 'idle' for s in _get(f'{base}/api/sessions', token)): break
                time.sleep(0.5)
            readout = page.locator('.fm-readout').first
            expect(readout).to_contain_text('NFE per sample')
            title = page.locator('.js-plotly-plot text.gtitle').first
            expect(title).to_contain_text('λ = 1')
            before_title, before_readout = title.text_content(), readout.text_content()
            handle = page.locator('.fm-scale .noUi-handle').first
            handle.scroll_into_view_if_needed(); handle.focus()
            for _ in range(6): page.keyboard.press('ArrowRight')   # λ: 1 → 10^0.3 ≈ 2
            expect(title).not_to_have_text(before_title)
            expect(readout).not_to_have_text(before_readout)
            after = title.text_content()
            assert 'λ = 1:' not in after and 'mean reward' in after, after
            shot.parent.mkdir(exist_ok=True); page.screenshot(path=str(shot))
        finally:
            browser.close()
