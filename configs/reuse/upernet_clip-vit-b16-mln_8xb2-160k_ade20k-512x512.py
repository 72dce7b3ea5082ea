# CLIPImageEncoder, this plugin's open_clip ViT-B/16 image tower, as the
# backbone of MMSegmentation's stock UPerNet: mmseg's MultiLevelNeck,
# UPerHead and auxiliary FCNHead in its EncoderDecoder, on mmseg's own
# ADE20K dataset config. Everything but the backbone comes from mmseg's
# shipped configs (`mmseg::` bases; resolving them needs setuptools < 82).
#   python tools/train.py \
#       configs/reuse/upernet_clip-vit-b16-mln_8xb2-160k_ade20k-512x512.py
#   bash tools/dist_train.sh \
#       configs/reuse/upernet_clip-vit-b16-mln_8xb2-160k_ade20k-512x512.py 8
# MMSegmentation's own tools/train.py (and `mim train mmseg CONFIG`) run it
# too: `custom_imports` registers the plugin.
#
# Normalisation happens once, in the data preprocessor, with CLIP's pixel
# statistics, and the tower's `normalize=None`: this is how every mmseg
# config normalises, so padded pixels (pad_val=0 after normalisation) are
# the mean colour as mmseg's heads expect. (SGSRF does the opposite because
# its CLIP and SAM towers read the same image with different statistics.)
#
# Weights: open_clip's LAION-2B ViT-B/16 file, as for SGSRF (see the README);
# OpenAI's `ViT-B-16.pt` also loads, with model_name='ViT-B-16-quickgelu'.
_base_ = [
    'mmseg::_base_/models/upernet_vit-b16_ln_mln.py',
    'mmseg::_base_/datasets/ade20k.py', 'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py'
]
custom_imports = dict(imports=['sgsrf_mmseg'], allow_failed_imports=False)
crop_size = (512, 512)
clip_weights = ('checkpoints/open_clip_vit_b16_laion2b/'
                'open_clip_pytorch_model.bin')
data_preprocessor = dict(
    size=crop_size,
    mean=[122.770938, 116.7460125, 104.09373615],
    std=[68.5005327, 66.6321579, 70.32316305],
    # Test images keep their aspect ratio: pad them to the patch size.
    test_cfg=dict(size_divisor=16))
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='CLIPImageEncoder',
        model_name='ViT-B-16',
        img_size=crop_size,
        out_indices=(2, 5, 8, 11),
        normalize=None,
        pretrained=clip_weights),
    decode_head=dict(num_classes=150),
    auxiliary_head=dict(num_classes=150),
    # The position embedding is loaded for 512 x 512: test on 512 crops.
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

# mmseg's ViT recipe (AdamW, no weight decay on position and class
# embeddings and layer norms), with CLIP's parameter names.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=0.00006, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={
            'positional_embedding': dict(decay_mult=0.),
            'class_embedding': dict(decay_mult=0.),
            'ln_': dict(decay_mult=0.)
        }))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=1500,
        end=160000,
        by_epoch=False)
]
# 8 GPUs with 2 images each.
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
