# sgsrf_tiny_synthetic_landmark.py with the landmark relation term's options
# for "next to" and for landmarks with look-alikes (LandmarkRelationPrior):
# distance features, a bump around the landmark 16, 32 and 64 px wide at
# 128 px (radial_widths in the grid's [-1, 1] units), and the term taken over
# the landmark's map instead of at its mean position (over_map); _delete_
# replaces the base's relation_prior=True.
_base_ = './sgsrf_tiny_synthetic_landmark.py'
model = dict(
    refiner=dict(
        relation_prior=dict(
            _delete_=True, radial_widths=(0.25, 0.5, 1.0), over_map=True)))
