# GroundingSAMHead without grounding: the Segment Anything Model (ViT-B)
# fine-tuned as a binary segmenter of buildings in MMSegmentation's stock
# EncoderDecoder. RawImageBackbone hands the image to the head, which runs
# SAM's image encoder on it; with no prompts, SAM's mask decoder finds the
# target with its own mask token. Data: a building extraction dataset in
# mmseg's layout (_base_/datasets/building_512x512.py), scored by mmseg's
# IoUMetric.
#   python tools/train.py \
#       configs/reuse/grounding-sam-head_sam-vit-b_1xb8-20k_building-512x512.py
#   python tools/test.py \
#       configs/reuse/grounding-sam-head_sam-vit-b_1xb8-20k_building-512x512.py CHECKPOINT  # noqa: E501
# MMSegmentation's own tools/train.py (and `mim train mmseg CONFIG`) run it
# too: `custom_imports` registers the plugin.
#
# Normalisation happens once, in the head (its default `normalize`: the
# pixel statistics of segment_anything's Sam) and not in the data
# preprocessor (mean=None, std=None): SAM's weights and SAM's statistics
# come from one place, and the config stays right when the head is moved
# into a model whose other towers use other statistics. A preprocessor that
# normalised as well would be refused with an error.
#
# Weights: segment-anything's `sam_vit_b_01ec64.pth` (see the README), its
# position tables interpolated from 1024 to 512 at load time.
_base_ = [
    './_base_/datasets/building_512x512.py',
    'mmseg::_base_/default_runtime.py', './_base_/schedules/adamw_20k.py'
]
custom_imports = dict(imports=['sgsrf_mmseg'], allow_failed_imports=False)
crop_size = (512, 512)
sam_weights = 'checkpoints/sam/sam_vit_b_01ec64.pth'
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=None,
    std=None,
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='RawImageBackbone'),
    decode_head=dict(
        type='GroundingSAMHead',
        sam=dict(arch='vit_b', img_size=crop_size[0]),
        use_grounding_adapters=False,
        pretrained=sam_weights,
        threshold=0.5,
        out_channels=1),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

# SAM's pretrained image encoder learns 10x slower than its decoder.
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={'decode_head.image_encoder': dict(lr_mult=0.1)}))
