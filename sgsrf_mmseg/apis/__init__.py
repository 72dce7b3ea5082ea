from .geo import segment_geotiff

__all__ = ['segment_geotiff']
