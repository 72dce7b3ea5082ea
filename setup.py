"""Install sgsrf_mmseg: ``pip install -e .`` (add ``[tests]``, ``[optional]``,
``[demo]``)."""
import os.path as osp
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name):
    """Return the requirement lines of ``requirements/<name>.txt``."""
    with open(osp.join(HERE, 'requirements', f'{name}.txt')) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version():
    """Return ``__version__`` from ``sgsrf_mmseg/version.py``."""
    scope = {}
    with open(osp.join(HERE, 'sgsrf_mmseg', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='sgsrf_mmseg',
    version=read_version(),
    description='SGSRF: grounding-first referring remote sensing image '
    'segmentation for MMSegmentation',
    long_description=open(osp.join(HERE, 'README.md')).read() if osp.exists(
        osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    python_requires='>=3.9',
    # mmcv is not listed: a user may have a compiled mmcv; otherwise install
    # requirements/mmcv.txt (mmcv-lite), as the Makefile does.
    install_requires=read_requirements('runtime'),
    extras_require=dict(
        tests=read_requirements('tests'),
        optional=read_requirements('optional'),
        demo=read_requirements('demo'),
    ),
    package_data={'sgsrf_mmseg.webapp': ['examples/*.png', 'examples/*.json']},
    license='Apache License 2.0',
    zip_safe=False)
