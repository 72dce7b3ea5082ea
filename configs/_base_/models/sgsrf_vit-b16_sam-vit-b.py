# SGSRF: CLIP ViT-B/16 image and text towers, CCR at D=256, GPG, SAM ViT-B
# with grounding modulation, SCR; 512 x 512 input.
#
# Pretrained weights (their paths are set in
# sgsrf_vit-b16_sam-vit-b_pretrained.py; no file is downloaded by the code):
# * CLIP ViT-B/16, either open_clip's LAION-2B file
#   ``open_clip_pytorch_model.bin`` (laion2b_s34b_b88k, from the
#   ``laion/CLIP-ViT-B-16-laion2B-s34B-b88K`` model page on the Hugging Face
#   hub) or OpenAI's ``ViT-B-16.pt`` (the URL listed in open_clip's
#   ``pretrained.py`` / OpenAI's CLIP repository); the same file goes to
#   ``image_encoder.pretrained`` and ``text_encoder.pretrained``. OpenAI
#   weights were trained with QuickGELU: also set ``quick_gelu=True`` on
#   both towers.
# * SAM ViT-B ``sam_vit_b_01ec64.pth`` (segment-anything's model
#   checkpoints, https://github.com/facebookresearch/segment-anything) in
#   ``decode_head.pretrained``.
#
# Ablations: ``refiner.num_blocks=0`` (no CCR refinement),
# ``prompt_generator=None`` (no GPG), ``decode_head.use_grounding_adapters=
# False`` (no GMS modulation), ``structural_loss=None`` or a term weight 0
# (no SCR). Frozen encoders: ``frozen_stages`` of each tower.
img_size = 512
embed_dims = 256
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=None,
    std=None,
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(img_size, img_size))
model = dict(
    type='SGSRFSegmentor',
    data_preprocessor=data_preprocessor,
    image_encoder=dict(
        type='CLIPImageEncoder',
        model_name='ViT-B-16',
        img_size=img_size,
        out_indices=(3, 7, 11),
        frozen_stages=-1,
        pretrained=None,
        grad_checkpointing=False),
    text_encoder=dict(
        type='CLIPTextEncoderTower',
        model_name='ViT-B-16',
        frozen_stages=-1,
        pretrained=None),
    refiner=dict(
        type='CrossModalConsistencyRefiner',
        visual_channels=[768, 768, 768],
        text_channels=512,
        sentence_channels=512,
        embed_dims=embed_dims,
        num_blocks=2,
        num_heads=8,
        ffn_ratio=4.0,
        gate_init=0.1,
        word_self_attn=True),
    prompt_generator=dict(
        type='GroundingPromptGenerator',
        embed_dims=embed_dims,
        prompt_dims=256,
        num_queries=4,
        num_layers=2,
        num_heads=8,
        use_sparse=True,
        use_dense=True,
        use_points=False,
        num_points=1,
        use_box=False),
    decode_head=dict(
        type='GroundingSAMHead',
        sam=dict(arch='vit_b', img_size=img_size),
        pretrained=None,
        use_grounding_adapters=True,
        cue_channels=embed_dims,
        use_sdpa=True,
        frozen_stages=-1,
        threshold=0.5,
        out_channels=1),
    # The stages' structural terms as in the tiny recipe, the later stages
    # ramped in after the cue has been learned (iterations of the benchmark
    # schedules, whose warm-up is 500 iterations).
    structural_loss=dict(
        type='StructuralConsistencyLoss',
        struct_weight=0.5,
        ground_weight=0.1,
        affinity_weight=0.1,
        prompt_weight=0.2,
        drift_weight=0.2,
        stage_schedule=dict(prompt=(1000, 3000), drift=(2000, 5000)),
        language_structure='roles',
        cue_target='max',
        affinity_samples=512),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
