"""Run the repository's tools in subprocesses, for the tool tests."""
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The small synthetic dataset of the tool tests (``synthetic_root``).
GENERATOR = dict(num_train=16, num_val=6, num_test=6, image_size=128, seed=0)


def run_tool(args, cwd=REPO, **kwargs):
    """Run a repository tool with this interpreter, one thread per process."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable)
    env.update(kwargs.pop('env', {}))
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, **kwargs)
