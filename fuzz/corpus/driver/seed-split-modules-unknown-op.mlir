func.func @f() {
  // UNKNOWN-OP: unknown-op.mlir:[[@LINE+1]]:8: error: Dialect `foo' not found for custom op 'foo.bar'
  %0 = foo.bar() : () -> i32
  return
}

