"""A page photo's ink at the edge: the table along a sheet's edge is dropped, writing cut by the photo's frame is
kept."""

import cv2
import numpy as np


def _strokes_and_edge_band() -> np.ndarray:
    """Darkness of a page: five short strokes inside, one symbol-sized stroke cut by the left edge, and a long dark
    band along the bottom edge (a table's shadow)."""
    dark = np.zeros((200, 400), np.uint8)
    for x in (80, 140, 200, 260, 320):
        cv2.line(dark, (x, 60), (x + 15, 90), 180, 3)
    cv2.line(dark, (0, 60), (14, 90), 180, 3)  # writing cut by the photo's frame
    dark[193:, :] = 180  # the table or a shadow along the edge
    return dark


def test_writing_cut_by_the_frame_is_kept_and_the_table_along_the_edge_is_not():
    from inkmath.equation.photo import clean as page_clean

    dark = _strokes_and_edge_band()
    sheet_edge, _ = page_clean.ink_mask(dark)
    frame, _ = page_clean.ink_mask(dark, frame_cuts=True)
    assert sheet_edge[75, 87] and frame[75, 87], "the strokes inside are ink either way"
    assert not sheet_edge[75, 7], "at a sheet's edge, what touches it is the table"
    assert frame[75, 7], "at the photo's frame, a symbol-sized stroke it cuts is writing"
    assert not frame[196, 200] and not sheet_edge[196, 200], "a band along the edge is never writing"


def test_a_learned_mask_keeps_writing_cut_by_the_frame_as_the_thresholds_do():
    from inkmath.equation.photo import clean as page_clean

    mask = ((_strokes_and_edge_band() > 0) * 255).astype(np.uint8)
    assert page_clean.learned_ink(mask, frame_cuts=True)[75, 7]
    assert not page_clean.learned_ink(mask)[75, 7]
    assert not page_clean.learned_ink(mask, frame_cuts=True)[196, 200]
