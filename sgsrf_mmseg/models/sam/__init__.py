"""segment-anything plumbing: building SAM at any size, SDPA attention,
the batched mask decoder, loading official weights."""
