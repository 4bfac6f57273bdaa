"""Notebooks are the source: check that the package, the cleaned notebooks and README.md are what nbs/ makes.

Works on a copy in a temporary folder, so it never changes the working tree.
Usage: python tests/check_notebooks.py [--write-readme]
"""
import filecmp, json, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def readme_from_index(nb_path: Path) -> str:
    "README.md text from nbs/index.ipynb: markdown cells verbatim, visible code cells as python blocks."
    cells = json.loads(nb_path.read_text())['cells']
    parts = []
    for c in cells:
        src = ''.join(c['source']).strip()
        if not src or src.startswith('#| hide') or src.startswith('#|hide'): continue
        parts.append(src if c['cell_type'] == 'markdown' else f"```python\n{src}\n```")
    return '<!-- generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file -->\n\n' + '\n\n'.join(parts) + '\n'


def diff_trees(a: Path, b: Path) -> list:
    "Relative paths that differ between two folders (ignoring caches)."
    out = []
    cmp = filecmp.dircmp(a, b, ignore=['__pycache__', '.ipynb_checkpoints'])
    def walk(c, rel):
        out.extend(str(rel / f) for f in c.left_only + c.right_only + c.diff_files)
        for name, sub in c.subdirs.items(): walk(sub, rel / name)
    walk(cmp, Path(a.name))
    return out


def main():
    readme = readme_from_index(ROOT / 'nbs' / 'index.ipynb')
    if '--write-readme' in sys.argv:
        (ROOT / 'README.md').write_text(readme); print('wrote README.md'); return 0
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for f in ['settings.ini', 'setup.py', 'pyproject.toml', 'README.md']:
            if (ROOT / f).exists(): shutil.copy(ROOT / f, tmp / f)
        for d in ['nbs', 'flowmaps_nb']: shutil.copytree(ROOT / d, tmp / d, ignore=shutil.ignore_patterns('__pycache__'))
        subprocess.run(['git', 'init', '-q'], cwd=tmp, check=True)
        for tool in ['nbdev_export', 'nbdev_clean']:
            r = subprocess.run([str(BIN / tool)], cwd=tmp, capture_output=True, text=True)
            if r.returncode: print(f'{tool} failed:\n{r.stdout}{r.stderr}'); return 1
        drift = diff_trees(ROOT / 'flowmaps_nb', tmp / 'flowmaps_nb')
        if drift: bad.append(f'package differs from what nbdev_export makes of nbs/ (run `make export`): {drift}')
        dirty = diff_trees(ROOT / 'nbs', tmp / 'nbs')
        if dirty: bad.append(f'notebooks are not clean (run `make export`): {dirty}')
    if (ROOT / 'README.md').read_text() != readme: bad.append('README.md is not what nbs/index.ipynb makes (run `make readme`)')
    for b in bad: print('FAIL:', b)
    if not bad: print('notebooks: package in sync with nbs/, notebooks clean, README.md matches nbs/index.ipynb')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
