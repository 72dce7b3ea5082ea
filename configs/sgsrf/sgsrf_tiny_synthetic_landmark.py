# sgsrf_tiny_synthetic.py with CCR's landmark relation term held to the
# landmark itself: the training pipeline draws the boxes of the landmarks
# each expression names (LoadLandmarkMap, right after the mask is loaded, so
# that Resize and the flips move them with it), and loss_landmark asks the
# term's landmark map to lie on them. The test pipeline is unchanged: the
# model reads no landmark box at inference.
_base_ = './sgsrf_tiny_synthetic.py'


def with_landmark_map(pipeline):
    """``pipeline`` that also draws the landmark map once the mask is in."""
    at = [step['type'] for step in pipeline].index('LoadReferringMask') + 1
    return pipeline[:at] + [dict(type='LoadLandmarkMap')] + pipeline[at:]


train_pipeline = with_landmark_map(_base_.train_pipeline)
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(
    refiner=dict(relation_prior=True),
    structural_loss=dict(landmark_weight=0.5))
