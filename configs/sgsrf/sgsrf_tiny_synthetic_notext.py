# The language ablation of sgsrf_tiny_synthetic.py: every expression is
# replaced by an empty string in training and testing, so the model can only
# segment what looks salient. Its score is the floor that grounding beats.
# The only change is the ReplaceExpression step, right after the mask is
# loaded (before any augmentation reads the expression).
_base_ = './sgsrf_tiny_synthetic.py'


def without_expressions(pipeline):
    """``pipeline`` with every expression replaced by '' once loaded."""
    at = [step['type'] for step in pipeline].index('LoadReferringMask') + 1
    no_expression = [dict(type='ReplaceExpression', text='')]
    return pipeline[:at] + no_expression + pipeline[at:]


train_pipeline = without_expressions(_base_.train_pipeline)
test_pipeline = without_expressions(_base_.test_pipeline)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
