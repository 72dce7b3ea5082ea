# Building extraction (binary: 0 background, 1 building) in MMSegmentation's
# layout, read by mmseg's own BaseSegDataset and scored by its IoUMetric:
#   data_root/img_dir/{train,val}/<name>.png   RGB tiles (e.g. 512 x 512)
#   data_root/ann_dir/{train,val}/<name>.png   one-band labels, 0 or 1
# Labels must be 0/1: 255 is mmseg's ignore index, so masks saved as 0/255
# (WHU, Inria, Massachusetts) must be converted (`mask // 255`) first, and
# other image suffixes set in `img_suffix` (e.g. '.tif').
# IoUMetric's "mIoU" is the mean of the background and building IoUs; the
# per-class table it prints gives the building IoU alone.
dataset_type = 'BaseSegDataset'
data_root = 'data/building'
metainfo = dict(
    classes=('background', 'building'), palette=[[0, 0, 0], [255, 0, 0]])
crop_size = (512, 512)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=crop_size,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    # Overhead imagery has no up: flip both ways.
    dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    # Ground truth at the tile's own size, where IoUMetric scores.
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
dataset = dict(
    type=dataset_type,
    data_root=data_root,
    metainfo=metainfo,
    img_suffix='.png',
    seg_map_suffix='.png',
    reduce_zero_label=False)
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        dataset,
        data_prefix=dict(
            img_path='img_dir/train', seg_map_path='ann_dir/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        dataset,
        data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU', 'mFscore'])
test_evaluator = val_evaluator
