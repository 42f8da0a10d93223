// nnhls emulation header: arbitrary-precision int types, API-compatible with the subset of
// the vendor's ap_int.h that nnhls kernels use. See ap_common.h for the design.
#ifndef NNHLS_AP_INT_H
#define NNHLS_AP_INT_H
#include "ap_common.h"
#endif
