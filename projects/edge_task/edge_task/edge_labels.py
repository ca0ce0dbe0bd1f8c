"""Exact edge labels derived from a semantic map."""
import numpy as np


def edges_from_semantic(seg: np.ndarray,
                        ignore_index: int = 255) -> np.ndarray:
    """Boundary map of a class map: 1 where a 4-neighbour has another class.

    A valid pixel is an edge (1) when at least one of its 4-neighbours
    inside the image is valid and of a different class, else 0. Ignored
    pixels stay ``ignore_index``, and an ignored neighbour does not make a
    pixel an edge (its class is unknown). Both sides of a class boundary
    are edges, so the labels are symmetric under a flip.

    Args:
        seg (np.ndarray): ``H x W`` class indices, ``ignore_index`` =
            unlabelled.
        ignore_index (int): Ignore value of ``seg`` and of the output.
            Defaults to 255.

    Returns:
        np.ndarray: ``H x W`` uint8 in ``{0, 1, ignore_index}``.
    """
    seg = np.asarray(seg).astype(np.int64)
    valid = seg != ignore_index
    edge = np.zeros(seg.shape, bool)
    # vertical then horizontal neighbour pairs: a pair of valid pixels of
    # two classes marks both of them
    for axis in (0, 1):
        a = [slice(None)] * 2
        b = [slice(None)] * 2
        a[axis], b[axis] = slice(None, -1), slice(1, None)
        a, b = tuple(a), tuple(b)
        differ = valid[a] & valid[b] & (seg[a] != seg[b])
        edge[a] |= differ
        edge[b] |= differ
    out = edge.astype(np.uint8)
    out[~valid] = ignore_index
    return out
