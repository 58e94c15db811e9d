"""The runs: whole jobs, each made of the stages in the order it needs them.

- ``importing``: ``run_import()``, a file (or a table) into a list: the only module that
  knows the order of the stages, read -> plan -> normalise -> journal -> send -> report;
  ``sending`` takes the rows from the file to the sender and the journal;
- ``connecting``: the run's session with BSG (``connect``, ``session``); ``control``: how
  the caller steers a run (``RunControl``: the stop event, progress callbacks);
- ``undo`` and ``hlr_refresh``: ``run_undo()`` and ``run_hlr_refresh()``, the jobs that
  start from a results workbook, each with its work; ``results_book`` reads the workbook back;
- ``inbox``: every file dropped in a folder, imported in turn (cron's ``bsg-import inbox``);
- ``history``: past imports read back from their journals (the page's History, resume);
- ``notify``: the completion notice POSTed when a run ends;
- ``frames``: the pandas API (``import_frame``, ``read_results``).

Nothing here imports ``importer.web`` or ``importer.cli``, which call these runs. This
``__init__`` imports nothing, so that importing one run loads no other.
"""
