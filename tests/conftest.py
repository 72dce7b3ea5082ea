"""Test-wide setup: register the plugin and use the ``mmseg`` default scope."""
from mmengine.registry import init_default_scope

import sgsrf_mmseg  # noqa: F401

init_default_scope('mmseg')
