func.func @f() {
  // UNKNOWN-GENERIC: unknown-generic.mlir:[[@LINE+1]]:17: error: operation being parsed with an unregistered dialect
  %0 = "foo.bar"() : () -> i32
  return
}

