# Runtime shared by every SGSRF config.
custom_imports = dict(imports=['sgsrf_mmseg'], allow_failed_imports=False)
default_scope = 'mmseg'
# Locks the work dir, loads checkpoints exactly, fails an explicit resume
# that finds nothing (sgsrf_mmseg/engine/strict_runner.py).
runner_type = 'StrictRunner'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # 'auto': nccl where CUDA is available, gloo on CPU (tools/train.py).
    dist_cfg=dict(backend='auto'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='ReferringSegVisualizer', vis_backends=vis_backends, name='visualizer')
# Names the samples of a batch whose loss is not finite (see the optimizer
# wrapper's non-finite guard).
custom_hooks = [dict(type='BatchSampleIdsHook')]
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
tta_model = None
