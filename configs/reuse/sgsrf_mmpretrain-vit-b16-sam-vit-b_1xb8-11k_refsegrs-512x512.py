# SGSRF with an mmpretrain backbone as its image tower: MMPretrainImageTower
# wraps mmpretrain's own VisionTransformer (CLIP's layout: pre_norm=True;
# multi-level patch maps: out_type='featmap', out_indices), which loads
# mmpretrain's CLIP checkpoint strictly under its own names. Everything else
# is the RefSegRS benchmark config: CLIP text tower, CCR, SCR, GPG and the
# SAM head with its grounding-modulation adapters.
#   python tools/train.py \
#       configs/reuse/sgsrf_mmpretrain-vit-b16-sam-vit-b_1xb8-11k_refsegrs-512x512.py --amp  # noqa: E501
#   python tools/test.py \
#       configs/reuse/sgsrf_mmpretrain-vit-b16-sam-vit-b_1xb8-11k_refsegrs-512x512.py CHECKPOINT  # noqa: E501
#
# Weights: mmpretrain's `clip-vit-base-p16_laion2b-pre_3rdparty_in1k_
# 20221220-5e24ff58.pth` (its CLIP model zoo, configs/clip/metafile.yml), an
# ImageClassifier checkpoint: its `backbone.*` entries load strictly, its
# classification head is left out, and the 224-px position embedding is
# resized to 512 as mmpretrain does. A converted CLIPZeroShot file loads
# with checkpoint_prefix='visual.' (see MMPretrainImageTower). The tower
# normalises its 0..255 input with CLIP's statistics (the data preprocessor
# does not normalise: the SAM head normalises with its own).
_base_ = '../sgsrf/sgsrf_vit-b16-sam-vit-b_1xb8-11k_refsegrs-512x512.py'
mmpretrain_clip = ('checkpoints/mmpretrain/'
                   'clip-vit-base-p16_laion2b-pre_3rdparty_in1k_'
                   '20221220-5e24ff58.pth')
img_size = 512
model = dict(
    image_encoder=dict(
        _delete_=True,
        type='MMPretrainImageTower',
        # As mmpretrain's configs/clip/vit-base-p16_pt-64xb64_in1k.py builds
        # it, returning the maps of blocks 4, 8 and 12.
        backbone=dict(
            type='mmpretrain.VisionTransformer',
            arch='b',
            img_size=img_size,
            patch_size=16,
            pre_norm=True,
            out_type='featmap',
            out_indices=(3, 7, 11)),
        pretrained=mmpretrain_clip))
# The pretrained towers learn 10x slower than the new modules.
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys=dict(
            _delete_=True,
            **{
                'image_encoder.backbone': dict(lr_mult=0.1),
                'text_encoder': dict(lr_mult=0.1),
                'decode_head.image_encoder': dict(lr_mult=0.1),
            })))
