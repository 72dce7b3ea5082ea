# SGSRF (CLIP ViT-B/16 + SAM ViT-B, 512x512) on RISBench.
# One GPU, batch 8, 40k iterations; validation every 2k iterations, the
# best checkpoint is chosen on val mIoU.
#   python tools/train.py configs/sgsrf/sgsrf_risbench.py --amp
_base_ = [
    '../_base_/models/sgsrf_vit-b16_sam-vit-b.py',
    '../_base_/datasets/risbench.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
clip_weights = 'checkpoints/open_clip_vit_b16_laion2b/open_clip_pytorch_model.bin'
sam_weights = 'checkpoints/sam/sam_vit_b_01ec64.pth'
model = dict(
    image_encoder=dict(pretrained=clip_weights),
    text_encoder=dict(pretrained=clip_weights),
    decode_head=dict(pretrained=sam_weights))
