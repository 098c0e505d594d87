func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> {
  // MALFORMED: malformed.mlir:[[@LINE+1]]:3: error: custom op 'retur' is unknown
  retur %x : tensor<4xf32>
}

