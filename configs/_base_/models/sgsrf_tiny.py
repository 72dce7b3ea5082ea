# SGSRF at tiny widths for CPU runs on the embedded synthetic scenes:
# 128 px input, CLIP ViT (width 64, patch 8, 3 layers, MLP ratio 2) + CLIP
# text tower (width 64, 2 layers, 24 tokens), CCR at D=64, SAM ViT (width 64,
# patch 8, depth 2, window 4, MLP ratio 2) with a 64-wide prompt encoder and
# mask decoder.
# Same classes as the full model, trained from scratch (no weights).
# The text tower keeps its (random) token and position embeddings fixed
# (``frozen_stages=0``): the 49408 x 64 token table is 3.2M of the 4.0M
# parameters and would dominate the optimizer step; set -1 to train it.
img_size = 128
embed_dims = 64
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
        model_name=None,
        vision_cfg=dict(
            layers=3,
            width=64,
            head_width=32,
            mlp_ratio=2.0,
            patch_size=8,
            image_size=img_size),
        embed_dim=64,
        img_size=img_size,
        out_indices=(0, 1, 2),
        frozen_stages=-1,
        pretrained=None),
    text_encoder=dict(
        type='CLIPTextEncoderTower',
        model_name=None,
        text_cfg=dict(context_length=24, width=64, heads=2, layers=2),
        embed_dim=64,
        frozen_stages=0,
        pretrained=None),
    refiner=dict(
        type='CrossModalConsistencyRefiner',
        visual_channels=[64, 64, 64],
        text_channels=64,
        sentence_channels=64,
        embed_dims=embed_dims,
        num_blocks=2,
        num_heads=4,
        ffn_ratio=2.0,
        gate_init=0.1,
        word_self_attn=True),
    prompt_generator=dict(
        type='GroundingPromptGenerator',
        embed_dims=embed_dims,
        prompt_dims=64,
        num_queries=4,
        num_layers=1,
        num_heads=4,
        ffn_ratio=2.0,
        use_sparse=True,
        use_dense=True,
        use_points=False,
        use_box=False),
    decode_head=dict(
        type='GroundingSAMHead',
        sam=dict(
            embed_dim=64,
            depth=2,
            num_heads=2,
            mlp_ratio=2.0,
            global_attn_indexes=(1, ),
            patch_size=8,
            window_size=4,
            prompt_embed_dim=64,
            decoder_depth=2,
            decoder_num_heads=2,
            decoder_mlp_dim=128,
            iou_head_hidden_dim=64,
            img_size=img_size),
        pretrained=None,
        use_grounding_adapters=True,
        cue_channels=embed_dims,
        frozen_stages=-1,
        threshold=0.5,
        out_channels=1),
    structural_loss=dict(
        type='StructuralConsistencyLoss',
        struct_weight=0.5,
        ground_weight=0.1,
        affinity_weight=0.1,
        prompt_weight=0.2,
        drift_weight=0.2,
        stage_schedule=dict(prompt=(300, 900), drift=(600, 1500)),
        language_structure='roles',
        cue_target='max',
        affinity_samples=256),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
