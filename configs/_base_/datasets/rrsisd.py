# RRSIS-D (800x800 JPEG): rrsisd/refs(unc).p, rrsisd/instances.json and
# images/rrsisd/JPEGImages/ under data_root. Same pipelines as RefSegRS.
# Set another root with --cfg-options train_dataloader.dataset.data_root=...
_base_ = './refsegrs.py'
dataset_type = 'RRSISDDataset'
data_root = 'data/RRSIS-D'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
