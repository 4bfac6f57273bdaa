"""Copy the EMA weights of trained runs into data/pretrained/ (weights + config only: what the tours load).

  flowmaps_train mfm --data gmm3 --out runs/mfm_gmm3 --steps 20000 --hidden 256 --depth 4 --ckpt-every 1000   # ~25 min, 1 CPU core
  flowmaps_train mfm --data digits --out runs/mfm_digits --steps 6000 --base 32 --batch-size 128 --lr 1e-3 --ckpt-every 500
  python data/make_pretrained.py runs/mfm_gmm3:mfm_gmm3 runs/mfm_digits:mfm_digits
"""
import shutil, sys
from pathlib import Path
from flowmaps_nb.train import load, read_config, save_checkpoint

root = Path(__file__).resolve().parent / 'pretrained'
for spec in sys.argv[1:]:
    src, name = spec.split(':')
    ck, cfg = read_config(src)
    model = load(src, ema=True)
    dest = root / name
    if dest.exists(): shutil.rmtree(dest)
    path = save_checkpoint(dest, model, cfg['step'], train={'source': str(src), 'train': cfg.get('train', {})})
    print(f"{src} (step {cfg['step']}) -> {path}")
