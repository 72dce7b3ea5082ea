"""Draw a referring mask and its expression onto an image."""
import unicodedata
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

_FONT = cv2.FONT_HERSHEY_SIMPLEX
#: Mask colours of :func:`draw_referring_overlays`, in order (RGB); the
#: first is the default colour of :func:`draw_referring_overlay`.
LEGEND_COLORS = ((255, 64, 64), (64, 160, 255), (255, 210, 0), (0, 200, 120),
                 (200, 90, 255), (255, 140, 0), (0, 220, 230), (255, 110, 200))


def ascii_safe(text: str) -> str:
    """Make text drawable with OpenCV's Hershey fonts (ASCII only).

    Accents are stripped by Unicode NFKD decomposition ("café" -> "cafe"),
    white space (tabs, newlines) becomes single spaces, and every remaining
    non-ASCII or non-printable character becomes ``?``.

    Args:
        text (str): Any text.

    Returns:
        str: Printable ASCII text.
    """
    decomposed = unicodedata.normalize('NFKD', str(text))
    chars = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if ch.isspace():
            chars.append(' ')
        elif 32 <= ord(ch) < 127:
            chars.append(ch)
        else:
            chars.append('?')
    return ' '.join(''.join(chars).split())


def draw_mask_overlay(image_rgb: np.ndarray,
                      mask: np.ndarray,
                      color: Sequence[int] = (255, 64, 64),
                      alpha: float = 0.5,
                      outline: bool = True) -> np.ndarray:
    """Fill a binary mask translucently and outline it.

    Args:
        image_rgb (np.ndarray): (H, W, 3) uint8 RGB image.
        mask (np.ndarray): (H, W) mask; pixels equal to 1 (or True) are the
            target, anything else (0, 255 ignore) is not.
        color (Sequence[int]): RGB colour. Defaults to (255, 64, 64).
        alpha (float): Opacity of the fill. Defaults to 0.5.
        outline (bool): Draw the mask contour in the full colour.
            Defaults to True.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.
    """
    image_rgb = np.asarray(image_rgb)
    if image_rgb.ndim != 3 or image_rgb.shape[2] != 3 \
            or image_rgb.dtype != np.uint8:
        raise ValueError('image_rgb must be an (H, W, 3) uint8 array, got '
                         f'{image_rgb.shape} {image_rgb.dtype}')
    mask = np.asarray(mask)
    if mask.shape != image_rgb.shape[:2]:
        raise ValueError(f'mask shape {mask.shape} differs from image shape '
                         f'{image_rgb.shape[:2]}')
    target = (mask == 1).astype(np.uint8)
    out = image_rgb.copy()
    colour = np.asarray(color, dtype=np.float32)
    fill = target.astype(bool)
    out[fill] = np.round(out[fill] * (1 - alpha) + colour * alpha).astype(
        np.uint8)
    if outline and fill.any():
        contours, _ = cv2.findContours(target, cv2.RETR_EXTERNAL,
                                       cv2.CHAIN_APPROX_NONE)
        thickness = max(1, min(image_rgb.shape[:2]) // 256)
        cv2.drawContours(out, contours, -1, tuple(int(c) for c in color),
                         thickness)
    return out


def _text_width(text: str, scale: float, thickness: int) -> int:
    return cv2.getTextSize(text, _FONT, scale, thickness)[0][0]


def _fitting_prefix(word: str, width_px: int, scale: float,
                    thickness: int) -> int:
    """Length of the longest prefix of ``word`` no wider than ``width_px``.

    A binary search over prefixes of at most ``width_px`` characters (a
    glyph is at least a pixel wide), so cutting a word of n characters
    measures O(n log width) characters, not O(n^2) per line. At least 1.
    """
    low, high = 1, max(1, min(len(word), width_px))
    while low < high:
        middle = (low + high + 1) // 2
        if _text_width(word[:middle], scale, thickness) <= width_px:
            low = middle
        else:
            high = middle - 1
    return low


def _wrap(text: str, width_px: int, scale: float, thickness: int) -> List[str]:
    """Split text greedily into lines no wider than ``width_px`` pixels."""
    lines: List[str] = []
    line = ''
    for word in text.split(' '):
        candidate = f'{line} {word}' if line else word
        if _text_width(candidate, scale, thickness) <= width_px:
            line = candidate
            continue
        if line:
            lines.append(line)
        # A word wider than the line is cut into pieces that fit.
        while len(word) > 1:
            cut = _fitting_prefix(word, width_px, scale, thickness)
            if cut >= len(word):
                break
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    lines.append(line)
    return lines


def _draw_banner(image_rgb: np.ndarray,
                 entries: Sequence[Tuple[str, Optional[Sequence[int]]]],
                 background: Sequence[int],
                 foreground: Sequence[int]) -> np.ndarray:
    """Put entries (text, optional colour swatch) on a banner above the image.

    Each entry starts on a new line and is wrapped to the image width; an
    entry with a colour gets a filled square of that colour before its text,
    and its wrapped lines are indented past the square.
    """
    height, width = image_rgb.shape[:2]
    scale = float(np.clip(width / 1000.0, 0.35, 0.9))
    thickness = 1 if scale < 0.8 else 2
    margin = max(4, int(round(8 * scale)))
    (_, text_h), baseline = cv2.getTextSize('Ag', _FONT, scale, thickness)
    line_h = text_h + baseline + margin // 2
    swatch = text_h + baseline
    placed = []  # (x, text, swatch colour) per line
    for text, colour in entries:
        indent = margin + (swatch + margin if colour is not None else 0)
        lines = _wrap(
            ascii_safe(text), width - indent - margin, scale, thickness)
        placed += [(indent, line, colour if i == 0 else None)
                   for i, line in enumerate(lines)]
    banner_h = margin + line_h * len(placed) + margin // 2
    banner = np.empty((banner_h, width, 3), np.uint8)
    banner[:] = np.asarray(background, np.uint8)
    for i, (x, line, colour) in enumerate(placed):
        y = margin + text_h + i * line_h
        if colour is not None:
            cv2.rectangle(banner, (margin, y - text_h),
                          (margin + swatch - 1, y + baseline - 1),
                          tuple(int(c) for c in colour), cv2.FILLED)
        cv2.putText(banner, line, (x, y), _FONT, scale,
                    tuple(int(c) for c in foreground), thickness, cv2.LINE_AA)
    return np.concatenate([banner, image_rgb], axis=0)


def add_text_banner(
    image_rgb: np.ndarray,
    text: str,
    background: Sequence[int] = (0, 0, 0),
    foreground: Sequence[int] = (255, 255, 255)
) -> np.ndarray:
    """Put text on a banner above the image.

    The banner is added above the image (the image itself is not covered),
    so the result is taller than the input. Text is made ASCII with
    :func:`ascii_safe` (OpenCV's fonts have no other glyphs) and wrapped to
    the image width.

    Args:
        image_rgb (np.ndarray): (H, W, 3) uint8 RGB image.
        text (str): The text.
        background (Sequence[int]): Banner RGB colour. Defaults to black.
        foreground (Sequence[int]): Text RGB colour. Defaults to white.

    Returns:
        np.ndarray: (H + banner height, W, 3) uint8 RGB image.
    """
    return _draw_banner(image_rgb, [(text, None)], background, foreground)


def draw_referring_overlay(image_rgb: np.ndarray,
                           mask: np.ndarray,
                           text: str,
                           color: Sequence[int] = (255, 64, 64),
                           alpha: float = 0.5) -> np.ndarray:
    """Draw a referring mask and its expression.

    The mask is filled with ``color`` at opacity ``alpha`` and outlined
    (``cv2.findContours``) in the full colour; the expression is written on a
    black banner added above the image, wrapped to the image width, with
    non-ASCII characters replaced (see :func:`ascii_safe`).

    Args:
        image_rgb (np.ndarray): (H, W, 3) uint8 RGB image.
        mask (np.ndarray): (H, W) mask, 1 = target.
        text (str): The referring expression.
        color (Sequence[int]): RGB mask colour. Defaults to (255, 64, 64).
        alpha (float): Fill opacity. Defaults to 0.5.

    Returns:
        np.ndarray: (H + banner height, W, 3) uint8 RGB image.
    """
    return add_text_banner(
        draw_mask_overlay(image_rgb, mask, color, alpha), text)


def draw_referring_overlays(image_rgb: np.ndarray,
                            masks: Sequence[np.ndarray],
                            texts: Sequence[str],
                            colors: Sequence[Sequence[int]] = LEGEND_COLORS,
                            alpha: float = 0.5) -> np.ndarray:
    """Draw several referring masks of one image, each in its own colour.

    Each mask is filled and outlined as in :func:`draw_mask_overlay`, in
    order (a later mask is drawn over an earlier one where they overlap);
    the banner above the image is a legend: one entry per expression, a
    square of its colour and the expression.

    Args:
        image_rgb (np.ndarray): (H, W, 3) uint8 RGB image.
        masks (Sequence[np.ndarray]): (H, W) masks, 1 = target.
        texts (Sequence[str]): One expression per mask.
        colors (Sequence[Sequence[int]]): RGB colours, at least one per
            mask. Defaults to :data:`LEGEND_COLORS`.
        alpha (float): Fill opacity. Defaults to 0.5.

    Returns:
        np.ndarray: (H + legend height, W, 3) uint8 RGB image.
    """
    if len(masks) != len(texts) or len(masks) > len(colors):
        raise ValueError(f'got {len(masks)} masks, {len(texts)} texts and '
                         f'{len(colors)} colours: need one text and one '
                         'colour per mask')
    out = image_rgb
    for mask, colour in zip(masks, colors):
        out = draw_mask_overlay(out, mask, colour, alpha)
    return _draw_banner(out, list(zip(texts, colors)), (0, 0, 0),
                        (255, 255, 255))
