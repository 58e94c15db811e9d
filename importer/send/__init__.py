"""Send stage: one request per row, many in flight, every answer turned into an outcome.

``RowSender`` (row) knows what to do with one row; ``dispatch`` (dispatch) runs many of
them at once on a thread pool and hands outcomes back, as they come, to the caller's record
function (the journal). Existing contacts are attached to the list in batches.
"""

from .dispatch import RowMarks, dispatch
from .row import ALREADY_EXISTS, Found, Result, Resumed, RowSender

__all__ = ["ALREADY_EXISTS", "Found", "Result", "Resumed", "RowMarks", "RowSender", "dispatch"]
