"""Run morph-kgc on a configuration file, with a guard for a bug of morph-kgc 2.10 (run in .venv-rml).

    .venv-rml/bin/python morph_runner.py config.ini

morph-kgc 2.10 escapes a literal made by a function in a working column that only exists when the
same rule also read a plain column, so a rule whose subject and object both come from functions
(our enterprises, named by fn:enterprise) stops with KeyError 'reference_results'. The guard gives
that column an empty value first; our functions escape their literals themselves. This file runs in
the engine's own environment: it must not import the project.
"""
import runpy
import sys

from morph_kgc import materializer

_original = materializer._materialize_fnml_execution


def _guarded(results_df, *args, **kwargs):
    if "reference_results" not in results_df.columns:
        results_df["reference_results"] = ""
    return _original(results_df, *args, **kwargs)


materializer._materialize_fnml_execution = _guarded

if __name__ == "__main__":
    sys.argv = ["morph_kgc", *sys.argv[1:]]
    runpy.run_module("morph_kgc", run_name="__main__", alter_sys=True)
