# sgsrf_tiny_synthetic_landmark.py with the landmark relation term finding
# its landmark on the patches and words before CCR's refinement
# (LandmarkRelationPrior, locate_on='projected'): the refined patches have
# read the target's words too, so the target's own patches also answer the
# landmark's query. _delete_ replaces the base's relation_prior=True.
_base_ = './sgsrf_tiny_synthetic_landmark.py'
model = dict(
    refiner=dict(relation_prior=dict(_delete_=True, locate_on='projected')))
