// nnhls emulation header: arbitrary-precision fixed types, API-compatible with the subset of
// the vendor's ap_fixed.h that nnhls kernels use. See ap_common.h for the design.
#ifndef NNHLS_AP_FIXED_H
#define NNHLS_AP_FIXED_H
#include "ap_common.h"
#endif
