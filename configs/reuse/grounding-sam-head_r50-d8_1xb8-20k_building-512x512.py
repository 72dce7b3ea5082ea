# SAMFeatureHead over a stock backbone: MMSegmentation's ResNet-50-D8
# (mmseg's `fcn_r50-d8` model base) gives the features, which the head
# projects onto SAM's image embedding (no SAM image encoder runs) and
# decodes with SAM's prompt encoder and mask decoder, as a binary segmenter
# of buildings in mmseg's EncoderDecoder. The base's
# auxiliary FCNHead stays, made binary (out_channels=1) with this plugin's
# MaskDiceLoss beside mmseg's sigmoid cross-entropy. Data: a building
# extraction dataset in mmseg's layout (_base_/datasets/building_512x512.py),
# scored by mmseg's IoUMetric.
#   python tools/train.py \
#       configs/reuse/grounding-sam-head_r50-d8_1xb8-20k_building-512x512.py
#   python tools/test.py \
#       configs/reuse/grounding-sam-head_r50-d8_1xb8-20k_building-512x512.py \
#       CHECKPOINT
# MMSegmentation's own tools/train.py (and `mim train mmseg CONFIG`) run it
# too: `custom_imports` registers the plugin.
#
# Normalisation: the data preprocessor's ImageNet statistics, as in every
# ResNet config of mmseg; the head has no image encoder and normalises
# nothing.
#
# Weights: the ResNet-50-V1c file behind mmseg's `open-mmlab://resnet50_v1c`
# (https://download.openmmlab.com/pretrain/third_party/resnet50_v1c-2cccc1ad.pth),  # noqa: E501
# and SAM's `sam_vit_b_01ec64.pth` for the prompt encoder and mask decoder
# (its image-encoder entries are not used). With mmseg's own tools,
# pretrained='open-mmlab://resnet50_v1c' downloads the first on first use.
_base_ = [
    'mmseg::_base_/models/fcn_r50-d8.py',
    './_base_/datasets/building_512x512.py',
    'mmseg::_base_/default_runtime.py', './_base_/schedules/adamw_20k.py'
]
custom_imports = dict(imports=['sgsrf_mmseg'], allow_failed_imports=False)
crop_size = (512, 512)
resnet_weights = 'checkpoints/resnet50_v1c-2cccc1ad.pth'
sam_weights = 'checkpoints/sam/sam_vit_b_01ec64.pth'
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=resnet_weights,
    decode_head=dict(
        _delete_=True,
        type='SAMFeatureHead',
        sam=dict(arch='vit_b', img_size=crop_size[0]),
        in_channels=2048,
        in_index=3,
        pretrained=sam_weights,
        threshold=0.5,
        out_channels=1),
    auxiliary_head=dict(
        num_classes=2,
        out_channels=1,
        threshold=0.5,
        loss_decode=[
            dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=0.4),
            dict(type='MaskDiceLoss', loss_weight=0.4)
        ]))
