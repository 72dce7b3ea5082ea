from .sgsrf_segmentor import SGSRFSegmentor

__all__ = ['SGSRFSegmentor']
