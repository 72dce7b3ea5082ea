"""open_clip plumbing: building towers, loading official weights."""
