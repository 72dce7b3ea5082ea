"""Expression and annotation checks through the datasets' own readers."""
from typing import Dict, List, Optional, Tuple

from sgsrf_mmseg.datasets import PhraseFileDataset, RRSISDDataset
from sgsrf_mmseg.datasets.referring_dataset import read_phrase_file
from sgsrf_mmseg.models.clip.tokenizer import bpe_tokenizer
from sgsrf_mmseg.utils.expression import clean_dataset_expression
from .report import DefectReport


class ExpressionCheck:
    """Reports expressions the loader skips, cleans or the text tower cuts.

    Args:
        report (DefectReport): Where defects go.
        context_length (int): Text context of the text encoder, in tokens
            (SOT and EOT included), counted with open_clip's BPE tokenizer.
    """

    def __init__(self, report: DefectReport, context_length: int) -> None:
        self.report = report
        self.context_length = context_length
        self.tokenizer = bpe_tokenizer()

    def check(self, raw: object, where: str) -> None:
        """Check one expression as stored.

        Args:
            raw (object): The expression before cleaning.
            where (str): Where it is, for the report.
        """
        text = clean_dataset_expression(raw)
        if not text:
            self.report.add('empty expression (skipped)', where)
            return
        if text != raw:
            self.report.add('expression with extra whitespace (cleaned)',
                            where)
        tokens = len(self.tokenizer.encode(text)) + 2
        if tokens > self.context_length:
            self.report.add(
                f'expression longer than {self.context_length} tokens '
                '(truncated by the text encoder)',
                f'{where} ({tokens} tokens)')


def phrase_file_references(dataset: PhraseFileDataset, report: DefectReport,
                           expressions: ExpressionCheck) -> List[dict]:
    """Read a phrase file as the loader does, reporting every bad line.

    Malformed lines (which make the loader refuse the file) are fatal; the
    others are grouped into references by the dataset, so that their files
    are checked too. Lines repeating the key and the expression of an
    earlier line are reported (testing would score them twice).

    Args:
        dataset (PhraseFileDataset): The split, not initialised.
        report (DefectReport): Where defects go.
        expressions (ExpressionCheck): The expression check.

    Returns:
        list[dict]: The references of the well-formed lines.
    """
    path = dataset.ann_file
    malformed: List[Tuple[int, str]] = []
    lines, empty = read_phrase_file(path, dataset.key_pattern, malformed)
    for line_no, reason in malformed:
        report.add('malformed line', f'{path}:{line_no}: {reason}', fatal=True)
    for line_no in empty:
        report.add('empty expression (skipped)', f'{path}:{line_no}')
    first_line: Dict[Tuple[str, str], int] = dict()
    for line in lines:
        where = f'{path}:{line.line_no}'
        expressions.check(line.raw_text, where)
        first = first_line.setdefault((line.key, line.text), line.line_no)
        if first != line.line_no:
            report.add('duplicate expression (same key and text)',
                       f'{where} (as line {first})')
    return dataset.references_from_lines(lines)


def rrsisd_references(dataset: RRSISDDataset, report: DefectReport,
                      expressions: ExpressionCheck) -> Optional[List[dict]]:
    """Load RRSIS-D references as the loader does, checking every sentence.

    Args:
        dataset (RRSISDDataset): The split, not initialised.
        report (DefectReport): Where defects go.
        expressions (ExpressionCheck): The expression check.

    Returns:
        list[dict] | None: The references; None when the loader refuses the
        annotations (reported as fatal with its message).
    """
    try:
        refs = dataset.split_refs()
        references = dataset.load_references()
    except Exception as err:  # every refusal of the loader is a defect
        report.add(
            'unloadable annotations',
            f'{type(err).__name__}: {err}',
            fatal=True)
        return None
    for ref in refs:
        for k, sentence in enumerate(ref.get('sentences', [])):
            expressions.check(
                dataset.raw_expression(sentence),
                f'ref {ref.get("ref_id")} sentence {k}')
    return references


def read_references(dataset, report: DefectReport,
                    expressions: ExpressionCheck) -> Optional[List[dict]]:
    """The references of a split by its dataset's reader, defects reported.

    Args:
        dataset (PhraseFileDataset | RRSISDDataset): The split, not
            initialised.
        report (DefectReport): Where defects go.
        expressions (ExpressionCheck): The expression check.

    Returns:
        list[dict] | None: The references, or None if the loader refuses
        the annotations.
    """
    if isinstance(dataset, RRSISDDataset):
        return rrsisd_references(dataset, report, expressions)
    return phrase_file_references(dataset, report, expressions)
