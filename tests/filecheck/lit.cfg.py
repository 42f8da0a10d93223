# lit configuration of the FileCheck suite (run by tests/test_lit.py, or `lit tests/filecheck`).
import os
import sys

import lit.formats

config.name = "nnhls"
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir", ".py"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["lit.cfg.py", "Output", "inputs"]

repo_root = os.path.dirname(os.path.dirname(config.test_source_root))
# lit scrubs the environment: the package and the interpreter's folder must be passed on.
config.environment["PYTHONPATH"] = repo_root
config.environment["PATH"] = os.pathsep.join(
    [os.path.dirname(sys.executable), os.environ.get("PATH", "")]
)
config.environment["KERAS_BACKEND"] = "torch"
config.environment["NNHLS_REPO"] = repo_root

# Macros first: substitutions apply in list order.
config.substitutions.append(
    (
        "NNHLS_ROUNDTRIP",
        "nnhls-opt %s --split-input-file | filecheck %s && "
        "nnhls-opt %s --split-input-file > %t.a.mlir && nnhls-opt %t.a.mlir --split-input-file > %t.b.mlir && "
        "diff %t.a.mlir %t.b.mlir",
    )
)
config.substitutions.append(
    (
        "NNHLS_GENERIC_ROUNDTRIP",
        "nnhls-opt %s --split-input-file --print-op-generic | nnhls-opt --split-input-file "
        "| filecheck %s",
    )
)
# PYTHONPATH is given again on each command: lit 18's internal `diff` leaves its own package
# directory in PYTHONPATH for the commands after it, which would then import another checkout's
# nnhls (the editable install's) instead of this one.
python = f"env PYTHONPATH={repo_root} {sys.executable}"
config.substitutions.append(("nnhls-opt", f"{python} -m nnhls.tools.nnhls_opt"))
config.substitutions.append(("%python", python))
