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
    type='ReferringSegVisualizer',
    vis_backends=vis_backends,
    name='visualizer')
# A NaN or infinite training loss stops the run before the step, naming the
# iteration and the samples of the batch ('raise'), or skips the step
# ('skip', at most max_skips in a row). It guards whatever optimizer wrapper
# the runner builds (OptimWrapper, or AmpOptimWrapper with --amp).
# The structural loss ramps the terms of its later stages in by iteration
# (StructuralConsistencyLoss(stage_schedule=...)); the hook tells it which.
custom_hooks = [
    dict(type='NonFiniteLossGuardHook', nonfinite='raise', max_skips=10),
    dict(type='StageScheduleHook')
]
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
tta_model = None
