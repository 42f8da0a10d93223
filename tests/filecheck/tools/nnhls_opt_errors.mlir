// RUN: not nnhls-opt %s 2>&1 | filecheck %s --check-prefix=PARSE
// RUN: not nnhls-opt %S/inputs/bad_dense.mlir 2>&1 | filecheck %s --check-prefix=VERIFY
// RUN: not nnhls-opt %s -p 'no-such-pass' 2>&1 | filecheck %s --check-prefix=PASS
// RUN: not nnhls-opt %S/inputs/missing.mlir 2>&1 | filecheck %s --check-prefix=MISSING
// RUN: nnhls-opt --version | filecheck %s --check-prefix=VERSION
// Errors are one line naming the file, the line and the problem, with a non-zero exit; no traceback.

func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = nn.activation %x {layer = "a", kind = #hls<activation relux>} : (tensor<4xf32>) -> tensor<4xf32>
  func.return %y : tensor<4xf32>
}
// PARSE: nnhls_opt_errors.mlir:9:62: error: Expected `linear`, `relu`
// PARSE-NOT: Traceback
// VERIFY: bad_dense.mlir:3: error: nn.dense 'fc1': weight shape (3, 2) does not match input features 4
// VERIFY-NOT: Traceback
// PASS: nnhls-opt: error: Unrecognized passes: ['no-such-pass']
// MISSING: missing.mlir: error: [Errno 2] No such file or directory
// VERSION: nnhls-opt 0.1.0 (xdsl 0.74
