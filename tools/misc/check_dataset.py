"""Scan a referring segmentation dataset for defects, optionally preview it.

``python tools/misc/check_dataset.py {refsegrs,rrsisd,risbench} DATA_ROOT
[--split train val test] [--preview-dir DIR --num-preview N]``

Reports every defect with its count and where it is. Fatal defects (the
loaders refuse them) make the exit status 1: missing annotation files,
malformed lines, refs the loader cannot join with instances.json, missing or
unreadable images and masks, mask files whose size differs from their image,
RRSIS-D annotations whose size differs from their image by more than
``--max-size-mismatch`` pixels. Warnings (the loaders handle them): empty
expressions (skipped), expressions with extra whitespace (cleaned),
expressions longer than the text context (truncated by the text encoder),
masks that are not strictly 0/255 (thresholded), empty masks, RRSIS-D size
differences the loader repairs.
"""
import argparse
import os
import os.path as osp
import re
import sys
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import sgsrf_mmseg  # noqa: E402,F401
from sgsrf_mmseg.datasets import (RefSegRSDataset, RISBenchDataset,  # noqa
                                  RRSISDDataset)
from sgsrf_mmseg.datasets.mask_utils import (binarize_mask,  # noqa: E402
                                             decode_segmentations,
                                             is_strictly_binary)
from sgsrf_mmseg.datasets.referring_dataset import \
    parse_phrase_line  # noqa: E402
from sgsrf_mmseg.utils.expression import \
    clean_dataset_expression as clean_expression  # noqa: E402
from sgsrf_mmseg.utils.safe_pickle import safe_load_pickle  # noqa: E402

DATASETS = dict(
    refsegrs=RefSegRSDataset, rrsisd=RRSISDDataset, risbench=RISBenchDataset)
FATAL = {
    'missing annotation file', 'malformed line', 'unloadable annotations',
    'missing image', 'unreadable image', 'missing mask', 'unreadable mask',
    'mask/image size mismatch', 'undecodable annotation',
    'annotation/image size mismatch beyond repair'
}


class DefectReport:
    """Collects defects by name with the places they occur."""

    def __init__(self) -> None:
        self.places: Dict[str, List[str]] = defaultdict(list)

    def add(self, name: str, where: str) -> None:
        self.places[name].append(where)

    @property
    def has_fatal(self) -> bool:
        return any(name in FATAL for name in self.places)

    def summary(self, max_listed: int) -> str:
        if not self.places:
            return 'no defects found'
        lines = []
        for name in sorted(self.places, key=lambda n: (n not in FATAL, n)):
            places = self.places[name]
            level = 'FATAL' if name in FATAL else 'warning'
            lines.append(f'[{level}] {name}: {len(places)}')
            shown = places if max_listed < 0 else places[:max_listed]
            lines += [f'    {p}' for p in shown]
            if len(shown) < len(places):
                lines.append(f'    ... and {len(places) - len(shown)} more')
        return '\n'.join(lines)


class SampleList(list):
    """Keeps the first ``cap`` samples and counts all of them."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap
        self.total = 0

    def offer(self, **sample) -> None:
        self.total += 1
        if len(self) < self.cap:
            self.append(sample)


class TokenCounter:
    """Counts CLIP BPE tokens (SOT/EOT included) of an expression."""

    def __init__(self) -> None:
        try:
            from open_clip.tokenizer import SimpleTokenizer
            self.tokenizer = SimpleTokenizer()
        except ImportError:  # fall back to a word-piece estimate
            self.tokenizer = None

    def __call__(self, text: str) -> int:
        if self.tokenizer is not None:
            return len(self.tokenizer.encode(text)) + 2
        return len(re.findall(r"\w+|[^\w\s]", text)) + 2


def check_text(report: DefectReport, raw: str, where: str,
               counter: TokenCounter, context_length: int) -> Optional[str]:
    """Check one expression; return its cleaned text, None if empty."""
    text = clean_expression(raw)
    if not text:
        report.add('empty expression (skipped)', where)
        return None
    if text != raw:
        report.add('expression with extra whitespace (cleaned)', where)
    n = counter(text)
    if n > context_length:
        report.add(
            f'expression longer than {context_length} tokens (truncated by '
            'the text encoder)', f'{where} ({n} tokens)')
    return text


def read_image(report: DefectReport, path: str, kind: str):
    """Read an image or mask file; report and return None if it fails."""
    if not osp.isfile(path):
        report.add(f'missing {kind}', path)
        return None
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        report.add(f'unreadable {kind}', path)
    return img


def check_mask_values(report: DefectReport, mask: np.ndarray, where: str,
                      threshold: float) -> np.ndarray:
    """Report non-binary and empty masks; return the binary mask."""
    if not is_strictly_binary(mask):
        values = np.unique(mask)
        report.add(f'mask not strictly 0/255 (thresholded at > {threshold})',
                   f'{where} ({len(values)} distinct values)')
    binary = binarize_mask(mask, threshold)
    if not binary.any():
        report.add('empty mask', where)
    return binary


def scan_phrase_dataset(dataset, report: DefectReport, counter: TokenCounter,
                        context_length: int, read_pixels: bool,
                        samples: SampleList) -> None:
    """Scan one split of RefSegRS or RISBench."""
    path = dataset.ann_file
    if not osp.isfile(path):
        report.add('missing annotation file', path)
        return
    key_re = re.compile(dataset.key_pattern, re.IGNORECASE)
    seen = dict()
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f'{path}:{line_no}'
            try:
                key, raw = parse_phrase_line(line, key_re)
            except ValueError as e:
                report.add('malformed line', f'{where}: {e}')
                continue
            text = check_text(report, raw, where, counter, context_length)
            if key not in seen:
                img_name, seg_name = dataset.key_to_files(key)
                img_path = osp.join(dataset.data_prefix['img_path'], img_name)
                seg_path = osp.join(dataset.data_prefix['seg_map_path'],
                                    seg_name)
                seen[key] = (img_path, seg_path,
                             check_files(report, img_path, seg_path,
                                         dataset.mask_threshold, read_pixels))
            img_path, seg_path, ok = seen[key]
            if text is not None and ok:
                samples.offer(
                    img_path=img_path,
                    seg_map_path=seg_path,
                    threshold=dataset.mask_threshold,
                    text=text,
                    name=osp.splitext(key)[0])


def check_files(report: DefectReport, img_path: str, seg_path: str,
                threshold: float, read_pixels: bool) -> bool:
    """Check an image/mask file pair; return whether both are usable."""
    if not read_pixels:
        ok = True
        for path, kind in ((img_path, 'image'), (seg_path, 'mask')):
            if not osp.isfile(path):
                report.add(f'missing {kind}', path)
                ok = False
        return ok
    img = read_image(report, img_path, 'image')
    mask = read_image(report, seg_path, 'mask')
    if img is None or mask is None:
        return False
    if img.shape[:2] != mask.shape[:2]:
        report.add('mask/image size mismatch',
                   f'{seg_path} {mask.shape[:2]} vs {img_path} '
                   f'{img.shape[:2]}')
        return False
    check_mask_values(report, mask, seg_path, threshold)
    return True


def scan_rrsisd(dataset, report: DefectReport, counter: TokenCounter,
                context_length: int, read_pixels: bool,
                max_size_mismatch: int, samples: SampleList) -> None:
    """Scan one split of RRSIS-D."""
    for path in (dataset.ann_file, dataset.instances_file):
        if not osp.isfile(path):
            report.add('missing annotation file', path)
    if report.places.get('missing annotation file'):
        return
    try:
        raw_refs = safe_load_pickle(dataset.ann_file)
        references = dataset.load_references()
    except Exception as e:  # every loader refusal is reported, not raised
        report.add('unloadable annotations', f'{type(e).__name__}: {e}')
        return
    for ref in raw_refs:
        if ref.get('split') != dataset.split:
            continue
        for k, sent in enumerate(ref.get('sentences', [])):
            raw = sent.get(dataset.text_key, sent.get('sent', ''))
            check_text(report, raw if isinstance(raw, str) else '',
                       f'ref {ref.get("ref_id")} sentence {k}', counter,
                       context_length)
    for ref in references:
        where = f'ref {ref["ref_id"]} (annotation {ref["ann_id"]})'
        img_path = ref['img_path']
        if not read_pixels:
            if not osp.isfile(img_path):
                report.add('missing image', img_path)
            else:
                samples.total += len(ref['sentences'])
            continue
        img = read_image(report, img_path, 'image')
        try:
            mask = decode_segmentations(ref['mask_annotations'],
                                        ref['mask_size'])
        except (ValueError, TypeError, KeyError) as e:
            report.add('undecodable annotation', f'{where}: {e}')
            continue
        if not mask.any():
            report.add('empty mask', where)
        if img is None:
            continue
        if img.shape[:2] != mask.shape:
            diff = max(abs(a - b) for a, b in zip(img.shape[:2], mask.shape))
            name = ('annotation/image size mismatch (repaired by the loader)'
                    if diff <= max_size_mismatch else
                    'annotation/image size mismatch beyond repair')
            report.add(name, f'{where}: mask {mask.shape} vs {img_path} '
                       f'{img.shape[:2]}')
            continue
        for sent in ref['sentences']:
            samples.offer(
                img_path=img_path,
                mask=mask,
                text=sent['text'],
                name=f'{ref["ref_id"]}_{sent["sent_id"]}')


def write_preview(sample: dict, path: str) -> None:
    """Write image | mask overlay side by side with the expression below."""
    img = cv2.imread(sample['img_path'], cv2.IMREAD_COLOR)
    if 'mask' in sample:
        mask = sample['mask'].astype(bool)
    else:
        raw = cv2.imread(sample['seg_map_path'], cv2.IMREAD_UNCHANGED)
        mask = binarize_mask(raw, sample['threshold']).astype(bool)
    overlay = img.copy()
    overlay[mask] = (overlay[mask] * 0.45 +
                     np.array([0, 0, 255]) * 0.55).astype(np.uint8)
    panel = np.concatenate([img, overlay], axis=1)
    if panel.shape[1] < 640:  # small tiles: enlarge so the text is legible
        factor = int(np.ceil(640 / panel.shape[1]))
        panel = cv2.resize(
            panel, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)
    scale = max(0.4, panel.shape[1] / 900)
    words, lines, line = sample['text'].split(), [], ''
    max_chars = max(20, int(panel.shape[1] / (11 * scale)))
    for word in words:
        if line and len(line) + 1 + len(word) > max_chars:
            lines.append(line)
            line = word
        else:
            line = f'{line} {word}'.strip()
    lines.append(line)
    step = int(24 * scale) + 4
    strip = np.full((step * len(lines) + 8, panel.shape[1], 3), 255, np.uint8)
    for k, text in enumerate(lines):
        cv2.putText(strip, text, (4, step * (k + 1)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (0, 0, 0),
                    max(1, int(scale)), cv2.LINE_AA)
    cv2.imwrite(path, np.concatenate([panel, strip], axis=0))


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description='Check a referring segmentation dataset for defects')
    parser.add_argument('dataset', choices=sorted(DATASETS))
    parser.add_argument('data_root', help='dataset root (released layout)')
    parser.add_argument(
        '--split',
        nargs='+',
        default=['train', 'val', 'test'],
        choices=['train', 'val', 'test'])
    parser.add_argument('--preview-dir', help='write preview PNGs here')
    parser.add_argument(
        '--num-preview', type=int, default=8, help='previews per split')
    parser.add_argument(
        '--context-length',
        type=int,
        default=77,
        help='text context of the text encoder, in tokens')
    parser.add_argument(
        '--max-size-mismatch',
        type=int,
        default=16,
        help='largest RRSIS-D annotation/image size difference the loader '
        'repairs (LoadReferringMask max_size_mismatch)')
    parser.add_argument(
        '--skip-pixels',
        action='store_true',
        help='only check that files exist (do not read them)')
    parser.add_argument(
        '--max-listed',
        type=int,
        default=20,
        help='places listed per defect (-1: all)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    report = DefectReport()
    counter = TokenCounter()
    if not osp.isdir(args.data_root):
        print(f'data root not found: {args.data_root}')
        return 1
    for split in args.split:
        dataset = DATASETS[args.dataset](
            data_root=args.data_root, split=split, lazy_init=True)
        samples = SampleList(args.num_preview if args.preview_dir else 0)
        if args.dataset == 'rrsisd':
            scan_rrsisd(dataset, report, counter, args.context_length,
                        not args.skip_pixels, args.max_size_mismatch,
                        samples)
        else:
            scan_phrase_dataset(dataset, report, counter,
                                args.context_length, not args.skip_pixels,
                                samples)
        print(f'{split}: {samples.total} usable expressions')
        if args.preview_dir and not args.skip_pixels:
            os.makedirs(args.preview_dir, exist_ok=True)
            for k, sample in enumerate(samples):
                write_preview(
                    sample,
                    osp.join(args.preview_dir,
                             f'{split}_{k:04d}_{sample["name"]}.png'))
    print(report.summary(args.max_listed))
    return 1 if report.has_fatal else 0


if __name__ == '__main__':
    sys.exit(main())
