"""The base every other part of the package stands on; it imports nothing above it.

===============  ==========================================================================
``errors``       ``DecisionError``, ``InputError(message, file=, row=, field=)``,
                 ``ConvergenceError``: the CLI prints these as one line and exits 2.
``config``       ``deep_merge`` (overrides over documented defaults; unknown keys are
                 errors), ``DEFAULT_AS_OF``, ``DEFAULT_SEED``.
``dates``        ``parse_date``, ``parse_month``, ``month_end``: dates and ``YYYY-MM`` months;
                 ``month_index``, ``complete_months``: months counted from a start.
``atomic``       Writes that complete or leave the old file (file and folder fsynced);
                 atomic folder exchange; ``work_lock``: processes take turns at costly work.
``stored``       Results derived deterministically from inputs, kept on disk and named by
                 the inputs, the deriving code and library versions.
``yaml``         The one YAML reader: safe loaders, size/nesting/alias limits, errors as
                 ``InputError``.
``validation``   YAML files validated with pydantic: errors name the file, key path and line.
``tables``       CSV tables validated with pandera, errors naming file, row and field.
``provenance``   git commit, package versions, file hashes, host id, process liveness.
``suggest``      "did you mean ...?" hints.
``progress``     ``Progress``: stages with elapsed time, bars on a terminal, lines otherwise,
                 nothing when quiet; ``current``/``activate``; the relay from report kernels.
===============  ==========================================================================

Import the submodules themselves (``from decision.core.errors import InputError``): this
package's ``__init__`` imports nothing, so importing one part stays cheap.
"""
