"""Interpreters of the IR on numpy batches (above the dialects, beside codegen).

    reference.py  the float reference interpreter of the `nn` dialect (the golden model)
    emulator.py   the bit-exact emulator of the `hls` dialect (the same bits as the C++)
"""
