"""SAM mask decoder run over a batch of images, one prompt set per image."""
from typing import Optional, Tuple

import torch
from segment_anything.modeling import MaskDecoder


class BatchedMaskDecoder(MaskDecoder):
    """segment_anything's ``MaskDecoder`` pairing images and prompts 1:1.

    The original ``predict_masks`` repeats each image embedding once per
    prompt set (``repeat_interleave``), so it takes one image with N prompt
    sets. Here image ``i`` is decoded with prompt set ``i``: image
    embeddings (B, C, h, w), dense prompts (B or 1, C, h, w) and sparse
    prompts (B, K, C) with any K >= 0. Parameter names are the original
    ones, so the official weights load unchanged; ``forward`` also takes
    optional ``detail`` features, added to the upscaled embedding (see
    :class:`MaskDetailStem`).
    """

    def forward(
        self,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
        multimask_output: bool,
        detail: Optional[torch.Tensor] = None,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """SAM's forward (the first mask, or the multimask ones), with
        ``detail`` (B, C / 8, 4h, 4w) when given."""
        masks, iou_pred = self.predict_masks(image_embeddings, image_pe,
                                             sparse_prompt_embeddings,
                                             dense_prompt_embeddings, detail)
        outputs = slice(1, None) if multimask_output else slice(0, 1)
        return masks[:, outputs], iou_pred[:, outputs]

    def predict_masks(
        self,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
        detail: Optional[torch.Tensor] = None,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Predict all mask tokens' masks and IoU scores.

        Args:
            image_embeddings (Tensor): (B, C, h, w).
            image_pe (Tensor): Dense positional encoding, (1, C, h, w).
            sparse_prompt_embeddings (Tensor): (B, K, C).
            dense_prompt_embeddings (Tensor): (B, C, h, w) or (1, C, h, w).
            detail (Tensor, optional): Added to the upscaled embedding,
                (B, C / 8, 4h, 4w). Defaults to None.

        Returns:
            tuple[Tensor, Tensor]: Masks (B, num_mask_tokens, 4h, 4w) and
            IoU predictions (B, num_mask_tokens).
        """
        b, c, h, w = image_embeddings.shape
        if sparse_prompt_embeddings.shape[0] != b:
            raise ValueError(
                f'sparse prompts for {sparse_prompt_embeddings.shape[0]} '
                f'images given with {b} image embeddings')
        if dense_prompt_embeddings.shape[0] not in (1, b):
            raise ValueError(
                f'dense prompts for {dense_prompt_embeddings.shape[0]} '
                f'images given with {b} image embeddings')
        output_tokens = torch.cat(
            [self.iou_token.weight, self.mask_tokens.weight], dim=0)
        output_tokens = output_tokens.unsqueeze(0).expand(b, -1, -1)
        tokens = torch.cat(
            [output_tokens,
             sparse_prompt_embeddings.to(output_tokens.dtype)],
            dim=1)
        src = image_embeddings + dense_prompt_embeddings
        pos_src = image_pe.expand(b, -1, -1, -1)

        hs, src = self.transformer(src, pos_src, tokens)
        iou_token_out = hs[:, 0, :]
        mask_tokens_out = hs[:, 1:1 + self.num_mask_tokens, :]

        upscaled = self.output_upscaling(
            src.transpose(1, 2).reshape(b, c, h, w))
        if detail is not None:
            if detail.shape[-3:] != upscaled.shape[-3:]:
                raise ValueError(
                    f'detail features {tuple(detail.shape[-3:])} do not '
                    f'match the upscaled embedding '
                    f'{tuple(upscaled.shape[-3:])}')
            upscaled = upscaled + detail.to(upscaled.dtype)
        hyper_in = torch.stack([
            mlp(mask_tokens_out[:, i, :])
            for i, mlp in enumerate(self.output_hypernetworks_mlps)
        ],
                               dim=1)
        masks = torch.einsum('bnc,bchw->bnhw', hyper_in, upscaled)
        iou_pred = self.iou_prediction_head(iou_token_out)
        return masks, iou_pred
