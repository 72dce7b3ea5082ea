# SGSRF on RRSIS-D: the short name of the model-zoo config below, whose
# name spells out the towers, schedule, data and input size; same settings.
#   python tools/train.py configs/sgsrf/sgsrf_rrsisd.py --amp
#   bash tools/dist_train.sh configs/sgsrf/sgsrf_rrsisd.py 4 --amp
_base_ = './sgsrf_vit-b16-sam-vit-b_1xb8-60k_rrsisd-512x512.py'
