"""The options of ``tools/infer.py`` with its defaults, for tests that
drive :class:`sgsrf_mmseg.apis.infer_run.InferRun` without the tool."""
import argparse
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_CONFIG = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')


def infer_options(**kwargs) -> argparse.Namespace:
    """The tool's options on the tiny config, ``kwargs`` replacing some."""
    args = dict(
        config=TINY_CONFIG,
        checkpoint=None,
        image=None,
        batch=None,
        geotiff=None,
        text=None,
        out_dir=None,
        overwrite=False,
        device='cpu',
        precision='fp32',
        batch_size=1,
        bands=None,
        max_pixels=None,
        on_error='stop',
        tile_size=None,
        overlap=None,
        cfg_options=None,
        explain=None,
        parser=None)
    args.update(kwargs)
    return argparse.Namespace(**args)
