from results_fixtures import make_test_results

from sgsrf_mmseg.analysis.ablation_tables import (render_comparison_table,
                                                  render_variant_table)


def runs(*miou):
    """``(seed, path, results)`` per seed with the given mIoU."""
    return [(seed, f'{seed}.json', make_test_results(mIoU=value))
            for seed, value in enumerate(miou)]


def test_comparison_against_full_by_hand():
    variants = [('full', runs(60, 61, 62)), ('no_struct', runs(50, 51, 52)),
                ('no_text', runs(20))]
    table = render_comparison_table(variants, metrics=['mIoU'])
    lines = table.splitlines()
    assert lines[0] == '| variant | against | seeds | mIoU |'
    # difference -10, pooled sd 1, Welch t -10 / sqrt(1/3 + 1/3), p 2/20
    assert lines[2] == ('| `no_struct` | `full` | 3 | -10.00, -10.0 sd, '
                        't -12.25, p 0.100, higher on 0/3 |')
    # one seed against three: no t, but a difference and a permutation p
    assert lines[3] == ('| `no_text` | `full` | 1 | -41.00, -41.0 sd, '
                        'p 0.250, higher on 0/1 |')
    assert 'permutation p' in table and 'scored higher' in table
    assert render_comparison_table([('no_text', runs(20))]) == ''


def test_variant_table_states_side_effects():
    table = render_variant_table([
        dict(
            name='full',
            description='SGSRF as configured',
            cfg_options={},
            config='configs/sgsrf/sgsrf_tiny_synthetic.py',
            side_effects=''),
        dict(
            name='no_gpg',
            description='no GPG',
            cfg_options={'model.prompt_generator': None},
            config='configs/sgsrf/sgsrf_tiny_synthetic.py',
            side_effects='no sparse queries, so no GPG structure term'),
        dict(
            name='no_text',
            description='empty expressions',
            cfg_options={},
            config='configs/sgsrf/sgsrf_tiny_synthetic_notext.py',
            side_effects='nothing to constrain'),
    ])
    lines = table.splitlines()
    assert lines[2] == '| `full` | SGSRF as configured | none | - |'
    assert lines[3] == ('| `no_gpg` | no GPG | `model.prompt_generator=None` '
                        '| no sparse queries, so no GPG structure term |')
    assert '`configs/sgsrf/sgsrf_tiny_synthetic_notext.py`' in lines[4]


def test_seed_wins_count_only_the_seeds_both_ran():
    full = [(0, 'a', make_test_results(mIoU=60)),
            (1, 'b', make_test_results(mIoU=61)),
            (4, 'c', make_test_results(mIoU=50))]
    variant = [(1, 'd', make_test_results(mIoU=62)),
               (4, 'e', make_test_results(mIoU=55)),
               (7, 'f', make_test_results(mIoU=99))]
    table = render_comparison_table([('full', full), ('v', variant)],
                                    metrics=['mIoU'])
    assert table.splitlines()[2].endswith('higher on 2/2 |')
    apart = [(9, 'g', make_test_results(mIoU=70))]
    table = render_comparison_table([('full', full), ('v', apart)],
                                    metrics=['mIoU'])
    assert 'higher on' not in table.splitlines()[2]


def test_a_variant_is_also_compared_with_its_baseline():
    variants = [('full', runs(60, 61, 62)), ('long', runs(70, 71, 72)),
                ('long_plus', runs(73, 74, 75)), ('other', runs(61, 62, 63))]
    table = render_comparison_table(
        variants,
        metrics=['mIoU'],
        baselines={
            'long': '',
            'long_plus': 'long',
            'other': 'missing'
        })
    rows = [line for line in table.splitlines() if line.startswith('| `')]
    assert [row.split(' | ')[:2] for row in rows] == [
        ['| `long`', '`full`'],
        ['| `long_plus`', '`full`'],
        ['| `long_plus`', '`long`'],
        ['| `other`', '`full`'],
    ]
    # 73..75 against 70..72: +3, pooled sd 1, higher on all three seeds
    assert rows[2].endswith('| 3 | +3.00, +3.0 sd, t +3.67, p 0.100, '
                            'higher on 3/3 |')
    assert rows[1].startswith('| `long_plus` | `full` | 3 | +13.00,')


def test_default_comparison_covers_the_targets_metrics():
    """The structure groups and the small targets, beside mIoU."""

    def with_groups(small):
        results = make_test_results(mIoU=60)
        for group in ('@relation', '@role_reversal', '@look_alike'):
            results['groups'][group] = dict(count=10, mIoU=50.0, oIoU=50.0)
        results['groups']['small']['mIoU'] = small
        return results

    full = [(seed, f'f{seed}.json', with_groups(55 + seed))
            for seed in range(2)]
    variant = [(seed, f'v{seed}.json', with_groups(65 + seed))
               for seed in range(2)]
    lines = render_comparison_table([('full', full),
                                     ('v', variant)]).splitlines()
    assert lines[0] == ('| variant | against | seeds | mIoU | '
                        'mIoU@relation | mIoU@role_reversal | '
                        'mIoU@look_alike | mIoU_small |')
    assert lines[2].split(' | ')[-1].startswith('+10.00, ')
