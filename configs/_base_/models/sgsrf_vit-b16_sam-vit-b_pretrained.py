# SGSRF, CLIP ViT-B/16 + SAM ViT-B at 512, initialised from the official
# weight files (see the README for where to get them); the benchmark configs
# use this model. Other paths: --cfg-options model.image_encoder.pretrained=...
_base_ = './sgsrf_vit-b16_sam-vit-b.py'
clip_weights = ('checkpoints/open_clip_vit_b16_laion2b/'
                'open_clip_pytorch_model.bin')
sam_weights = 'checkpoints/sam/sam_vit_b_01ec64.pth'
model = dict(
    image_encoder=dict(pretrained=clip_weights),
    text_encoder=dict(pretrained=clip_weights),
    decode_head=dict(pretrained=sam_weights))
