# SGSRF (CLIP ViT-B/16 + SAM ViT-B, 512x512) on RISBench.
# One GPU, batch 8, 40k iterations; validation every 2k iterations, the
# best checkpoint is chosen on val mIoU.
#   python tools/train.py configs/sgsrf/sgsrf_vit-b16-sam-vit-b_1xb8-40k_risbench-512x512.py --amp
_base_ = [
    '../_base_/models/sgsrf_vit-b16_sam-vit-b_pretrained.py',
    '../_base_/datasets/risbench.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
