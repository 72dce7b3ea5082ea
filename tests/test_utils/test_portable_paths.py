import pytest

from sgsrf_mmseg.utils.portable_paths import PortablePaths, absolute_paths

PATHS = PortablePaths(root='/work/repo', work='/scratch/me')


@pytest.mark.parametrize('path, written', [
    ('/work/repo/work_dirs/demo/best.pth', 'work_dirs/demo/best.pth'),
    ('/work/repo/./configs/../configs/a.py', 'configs/a.py'),
    ('/work/repo', '.'),
    ('/scratch/me/ablation/x.json', '$WORK/ablation/x.json'),
    ('/scratch/me', '$WORK'),
    ('/work/repository/x', '/work/repository/x'),
    ('/elsewhere/x.pth', '/elsewhere/x.pth'),
    ('work_dirs/demo', 'work_dirs/demo'),
])
def test_path(path, written):
    assert PATHS.path(path) == written


def test_command_keeps_what_is_not_a_path_and_quotes_for_the_shell():
    command = ('python /work/repo/tools/test.py /work/repo/configs/a.py '
               '/scratch/me/runs/best.pth --cfg-options '
               'model.pretrained=/work/repo/w.pth randomness.seed=0 '
               "'--out=/scratch/me/my runs/o' 'a=[1, 2]'")
    assert PATHS.command(command) == (
        'python tools/test.py configs/a.py $WORK/runs/best.pth '
        '--cfg-options model.pretrained=w.pth randomness.seed=0 '
        "--out=$WORK'/my runs/o' 'a=[1, 2]'")
    assert PATHS.command(['python', '/work/repo/tools/train.py']) == \
        'python tools/train.py'


def test_without_work_only_the_repository_is_relative():
    paths = PortablePaths(root='/work/repo', work=None)
    assert paths.path('/scratch/me/x') == '/scratch/me/x'
    with pytest.raises(
            ValueError,
            match=r'the block would print the '
            r'absolute path /scratch/me/x, .*set WORK'):
        paths.refuse_absolute(f"`{paths.command('ls /scratch/me/x')}`",
                              'the block')


def test_work_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv('WORK', '/scratch/me')
    assert PortablePaths(root='/r').path('/scratch/me/a') == '$WORK/a'
    monkeypatch.delenv('WORK')
    assert PortablePaths(root='/r').work is None


def test_absolute_paths_in_text():
    text = ('- `python /a/b.py x` (`/c/d.json`) https://doi.org/10.3390 '
            'ms/step, images/s, "/e", (/f)\n/g h')
    assert absolute_paths(text) == ['/a/b.py', '/c/d.json', '/e', '/f', '/g']
