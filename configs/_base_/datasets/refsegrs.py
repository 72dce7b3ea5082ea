# RefSegRS (SkyScapes tiles, 512x512): images/, masks/, output_phrase_*.txt
# under data_root. Set another root with --cfg-options
# train_dataloader.dataset.data_root=... (and val_/test_dataloader).
dataset_type = 'RefSegRSDataset'
data_root = 'data/RefSegRS'
input_size = (512, 512)
train_pipeline = [
    dict(type='LoadRasterImage'),
    dict(type='LoadReferringMask'),
    dict(type='Resize', scale=input_size, keep_ratio=False),
    # Flips swap left/right (top/bottom) in the expression as well.
    dict(
        type='TextAwareRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    # Almost no hue jitter: colour words ("the white storage tank") must stay
    # true. mmseg's PhotoMetricDistortion always may shift the hue, by
    # randint(-hue_delta, hue_delta) of OpenCV's 180 hue steps: 0 fails
    # there (numpy's "high <= 0"), 1 shifts by at most 2 degrees.
    dict(type='PhotoMetricDistortion', hue_delta=1),
    dict(type='PackReferringInputs'),
]
# The ground truth is loaded after Resize, at the image's original size,
# which every scoring protocol starts from.
test_pipeline = [
    dict(type='LoadRasterImage'),
    dict(type='Resize', scale=input_size, keep_ratio=False),
    dict(type='LoadReferringMask'),
    dict(type='PackReferringInputs'),
]
# The structural loss reads the dependency parse of every training
# expression (spaCy, cached beside the annotations): pip install spacy, then
# python -m spacy download en_core_web_sm.
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        text_parser=dict(model='en_core_web_sm'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        test_mode=True,
        pipeline=test_pipeline))
# Scoring protocol (ReferringSegMetric `protocol`): 'original' scores at the
# image's own size; 'lavt-480' (LAVT / RMSIN) at 480 x 480; 'rsrefseg' counts
# Prec@X with IoU > X. Experiment configs state the one their numbers follow.
val_evaluator = dict(type='ReferringSegMetric', protocol='original')
test_evaluator = val_evaluator
