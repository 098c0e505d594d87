// decode=runtime needs the symbols it creates: a module that already has
// one of them, as something else, is diagnosed at the weight; nothing is
// written.
// RUN: rm -rf %t && mkdir %t
// RUN: not clusterc --decode=runtime --min-elements=0 %s -o %t/out.mlir 2>&1 | FileCheck %s
// RUN: ls -A %t | count 0

func.func @forward(%x: tensor<1x16xf32>) -> tensor<1x4xf32> {
  // CHECK: decode-runtime-errors.mlir:[[@LINE+1]]:8: error: cluster-weights: decode=runtime: the module has a symbol 'clusterc_decode_weights' that is not the decode initializer (a func.func () -> () with one block)
  %w = arith.constant dense<"0x998597BD84BA81BE5D1139BFFFAD3B3F8BB47CBF8F53B63BB6ED4B3F769F56BFB64ADE3D38E66E3EB60F6BBF92C477BE2A5DD03EB685C4BD8977E63E19892FBF442306BFE33147BF9E6C4D3C3800593F8E32393E2F650C3F20416EBE6200FC3EFCF14BBF6AD5D5BEEC6AB23E911FE73EB53E20BE5D1753BF65DDEEBE488914BF3111E0BE30781E3F56DD19BF30D6453F343D423FA6F263BF1B2F78BE7FCB87BC04FA73BF98291ABE0E15503FDFA146BF0257463ED2ED41BF9F2D213E37654A3F690918BF52C67BBF043F55BF48E5A23DD90E77BF4D9054BF0F8AD5BBA883573FB89E23BEB19E50BEF80B8E3E8B2B50BF436E233ED9A627BFDB005F3EB2A96A3F"> : tensor<16x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4xf32>) -> tensor<1x4xf32>
  %r = linalg.matmul ins(%x, %w : tensor<1x16xf32>, tensor<16x4xf32>) outs(%z : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %r : tensor<1x4xf32>
}

func.func @clusterc_decode_weights(%x: i32) -> i32 {
  return %x : i32
}
