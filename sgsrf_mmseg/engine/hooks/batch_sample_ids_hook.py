"""Note which samples each training batch holds."""
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from ..optimizers.nonfinite_guard import BATCH_IDS_KEY


def describe_samples(data_samples: Sequence) -> list:
    """``'<img_path> (ref <id>, sent <id>)'`` for each data sample."""
    return [
        f"{s.metainfo.get('img_path')} (ref {s.metainfo.get('ref_id')}, "
        f"sent {s.metainfo.get('sent_id')})" for s in data_samples
    ]


@HOOKS.register_module()
class BatchSampleIdsHook(Hook):
    """Record the samples of the batch about to be trained.

    The ids go to the runtime info of the message hub under
    :data:`BATCH_IDS_KEY`, where the non-finite loss guard reads them to
    name the samples of a NaN or infinite loss.
    """
    priority = 'VERY_HIGH'

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """Record ``data_batch['data_samples']``."""
        samples = (data_batch or {}).get('data_samples') or []
        runner.message_hub.update_info(BATCH_IDS_KEY,
                                       describe_samples(samples))
