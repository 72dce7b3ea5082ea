# sgsrf_tiny_synthetic_landmark.py with the landmark relation term reading
# the landmark together with the target (LandmarkRelationPrior, joint=True,
# over the landmark's map): each candidate landmark cell is weighed by the
# best patch for the target in the named relation to it, so that of two
# ponds the term takes the one a red car is next to. _delete_ replaces the
# base's relation_prior=True.
_base_ = './sgsrf_tiny_synthetic_landmark.py'
model = dict(
    refiner=dict(
        relation_prior=dict(_delete_=True, over_map=True, joint=True)))
