# RISBench (512x512 PNG): img_rgb/, mask/ and output_phrase_*.txt under
# data_root. Same pipelines as RefSegRS.
# Set another root with --cfg-options train_dataloader.dataset.data_root=...
_base_ = './refsegrs.py'
dataset_type = 'RISBenchDataset'
data_root = 'data/RISBench'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
