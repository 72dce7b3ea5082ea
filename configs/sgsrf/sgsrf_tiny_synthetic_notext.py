# The language ablation of sgsrf_tiny_synthetic.py: every expression is
# replaced by an empty string in training and testing, so the model can only
# segment what looks salient. Its score is the floor that grounding beats.
_base_ = './sgsrf_tiny_synthetic.py'
train_pipeline = [
    dict(type='LoadRasterImage'),
    dict(type='LoadReferringMask'),
    dict(type='ReplaceExpression', text=''),
    dict(
        type='TextAwareRandomFlip',
        prob=0.5,
        direction=['horizontal', 'vertical']),
    dict(type='PackReferringInputs'),
]
test_pipeline = [
    dict(type='LoadRasterImage'),
    dict(type='LoadReferringMask'),
    dict(type='ReplaceExpression', text=''),
    dict(type='PackReferringInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
