"""Dependency parses of the expressions (spaCy), for the structural loss."""
from .dataset_parses import (attach_text_parses, parse_dataset_split,
                             split_dataset_config, text_parse_file)
from .parse_cache import check_text_parser_config, ensure_parses
from .parse_file import (GOLD_PARSER, cache_file_for, read_parse_file,
                         write_parse_file)
from .parser_training import (evaluate_parser, read_gold_parses,
                              train_dependency_parser)
from .spacy_pipeline import load_spacy_pipeline, parse_texts, pipeline_identity

__all__ = [
    'attach_text_parses', 'parse_dataset_split', 'split_dataset_config',
    'text_parse_file', 'check_text_parser_config', 'ensure_parses',
    'GOLD_PARSER', 'cache_file_for', 'read_parse_file', 'write_parse_file',
    'evaluate_parser', 'read_gold_parses', 'train_dependency_parser',
    'load_spacy_pipeline', 'parse_texts', 'pipeline_identity'
]
