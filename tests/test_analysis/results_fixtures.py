"""Small results files in the formats the renderer reads."""
import json

from sgsrf_mmseg.evaluation import PROTOCOLS


def make_test_results(config='configs/sgsrf/sgsrf_tiny_synthetic.py',
                      protocol='original',
                      split='test',
                      **metrics):
    """A ``test_results.json`` dict as ``tools/test.py`` writes it."""
    scores = dict(
        mIoU=55.17,
        oIoU=48.46,
        **{
            'Prec@0.5': 56.13,
            'Prec@0.6': 50.47,
            'Prec@0.7': 44.1,
            'Prec@0.8': 32.31,
            'Prec@0.9': 9.91
        })
    scores.update({k.replace('_', '@'): v for k, v in metrics.items()})
    return dict(
        kind='sgsrf-test-results',
        version=1,
        command=f'python tools/test.py {config} work_dirs/x/best.pth',
        config=config,
        checkpoint='work_dirs/x/best.pth',
        dataset=dict(
            type='SyntheticRefSegRSDataset',
            data_root='data/synthetic_refsegrs',
            split=split),
        created='2026-11-27T12:00:00',
        expressions=424,
        protocol=PROTOCOLS[protocol].to_dict(),
        metrics=scores,
        groups={
            'small': dict(count=124, mIoU=49.67, oIoU=35.72),
            '@held_out_pair': dict(count=111, mIoU=34.08, oIoU=24.2),
        })


def make_benchmark_results(**changes):
    """A ``benchmark.py --out`` dict with the fields the renderer reads."""
    results = dict(
        config='configs/sgsrf/sgsrf_tiny_synthetic.py',
        device='cuda',
        device_name='NVIDIA H100 80GB HBM3',
        torch='2.11.0',
        threads=16,
        dtype='bf16',
        batch_size=8,
        input_size=512,
        warmup=2,
        iters=10,
        params=dict(total=250_100_000, trainable=249_100_000, by_module={}),
        train=dict(step_ms=321.04, images_per_s=24.92, peak_mib=40960.4),
        infer=dict(ms_per_image=12.345, images_per_s=81.0, peak_mib=2048.0),
        flops=dict(forward_infer=2_620_000_000),
        stages=dict(
            train=dict(clip_image=dict(ms=20.0, share=0.221)), infer=None),
        floor=None,
        compare=dict(
            baseline=dict(
                changes={},
                step_ms=321.04,
                speedup=1.0,
                peak_mib=40960.4,
                error=None),
            use_sdpa=dict(
                changes={'decode_head.use_sdpa': False},
                step_ms=None,
                speedup=None,
                peak_mib=None,
                error='out of memory')))
    results.update(changes)
    return results


def write_json(path, data):
    """Write ``data`` to ``path``; return the path as a string."""
    with open(path, 'w') as f:
        json.dump(data, f)
    return str(path)
