"""hls dialect -> C++ project (ARCHITECTURE.md section 4).

    firmware.py  the firmware model: one Layer (config struct, kernel call, constants) per hls op,
                 filled in by the op's kernel rules (nnhls/ops)
    writer.py    CppWriter, a small structured C++ writer
    files.py     the text of every generated file (firmware, weights, bridge, test bench, Tcl)
    project.py   writing a project directory safely (marker file, force, stale files)
    build.py     the g++ emulation build with its content-hashed cache

The kernels themselves are the header-only library in nnhls/hls_lib/nnet.
"""
