from .atomic_checkpoint_hook import AtomicCheckpointHook
from .batch_sample_ids_hook import BatchSampleIdsHook

__all__ = ['AtomicCheckpointHook', 'BatchSampleIdsHook']
