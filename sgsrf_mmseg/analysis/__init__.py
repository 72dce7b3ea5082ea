"""Analysis of models built from configs: speed, memory and FLOPs."""
