// Gradient checks of tensor.pad with static and dynamic padding (amounts
// as SSA values, as emitc's MobileNetV2 has them) and of tensor.extract
// inside a linalg.generic reading an activation (adaptive average pooling
// as torch-mlir lowers it: the gradient is a scatter-add). clusterc
// gradcheck compares every parameter gradient with central finite
// differences on the JIT.
// RUN: clusterc gradcheck --function=pad_static %s | FileCheck %s
// RUN: clusterc gradcheck --function=pad_dynamic %s | FileCheck %s
// RUN: clusterc --emit=train-mlir --mode=float --function=pad_dynamic %s | FileCheck %s --check-prefix=IR
// CHECK-NOT: FAIL
// CHECK: gradcheck: all gradients match
// IR-LABEL: func.func @pad_dynamic_train_step
// IR: tensor.pad
// IR: tensor.extract_slice %{{.*}}[0, %{{.*}}] [2, 4] [1, 1] : tensor<2x7xf32> to tensor<2x4xf32>

func.func @pad_static(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[0.31, -0.52, 0.13, 0.44], [-0.25, 0.61, -0.37, 0.08], [0.57, 0.22, -0.46, -0.19]]> : tensor<3x4xf32> loc("fc1.weight")
  %w2 = arith.constant dense<[[0.12, -0.3, 0.25], [0.4, 0.1, -0.2], [-0.35, 0.22, 0.05], [0.18, -0.27, 0.33], [0.07, 0.29, -0.41], [-0.16, 0.38, 0.11], [0.26, -0.09, -0.31]]> : tensor<7x3xf32> loc("fc2.weight")
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %one = arith.constant 0.5 : f32
  %p = tensor.pad %m low[0, 1] high[0, 2] {
  ^bb0(%i: index, %j: index):
    tensor.yield %one : f32
  } : tensor<2x4xf32> to tensor<2x7xf32>
  %e2 = tensor.empty() : tensor<2x3xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul ins(%p, %w2 : tensor<2x7xf32>, tensor<7x3xf32>) outs(%z2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

func.func @pad_dynamic(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[0.31, -0.52, 0.13, 0.44], [-0.25, 0.61, -0.37, 0.08], [0.57, 0.22, -0.46, -0.19]]> : tensor<3x4xf32> loc("fc1.weight")
  %w2 = arith.constant dense<[[0.12, -0.3, 0.25], [0.4, 0.1, -0.2], [-0.35, 0.22, 0.05], [0.18, -0.27, 0.33], [0.07, 0.29, -0.41], [-0.16, 0.38, 0.11], [0.26, -0.09, -0.31]]> : tensor<7x3xf32> loc("fc2.weight")
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %lo = arith.constant 1 : index
  %hi = arith.constant 2 : index
  %p = tensor.pad %m low[0, %lo] high[0, %hi] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<2x4xf32> to tensor<2x7xf32>
  %e2 = tensor.empty() : tensor<2x3xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul ins(%p, %w2 : tensor<2x7xf32>, tensor<7x3xf32>) outs(%z2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// Adaptive average pooling 5x5 -> 2x2 as torch-mlir lowers it: a reduction
// over a 3x3 window tensor whose body computes each window's bounds and
// reads the activation with tensor.extract (here a trained activation:
// tanh(x + b)), then the division by the window size.
// RUN: clusterc gradcheck --function=adaptive_pool --eps=1e-3 %s | FileCheck %s
// RUN: clusterc gradcheck --function=adaptive_pool --mode=centroids-only --clusters=4 --min-elements=1 --eps=1e-3 %s | FileCheck %s
// RUN: clusterc --emit=train-mlir --mode=float --function=adaptive_pool %s | FileCheck %s --check-prefix=SCATTER
// SCATTER-LABEL: func.func @adaptive_pool_train_step
// SCATTER: scf.for
// SCATTER: tensor.extract
// SCATTER: tensor.insert
// SCATTER: scf.yield
#kmap = affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>
#omap = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>
func.func @adaptive_pool(%x: tensor<2x2x5x5xf32>) -> tensor<2x3xf32> {
  %zero = arith.constant 0.0 : f32
  %b = arith.constant dense<[0.3, -0.2]> : tensor<2xf32> loc("conv.bias")
  %e = tensor.empty() : tensor<2x2x5x5xf32>
  %xa = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %b : tensor<2x2x5x5xf32>, tensor<2xf32>) outs(%e : tensor<2x2x5x5xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    %t = math.tanh %s : f32
    linalg.yield %t : f32
  } -> tensor<2x2x5x5xf32>
  %k = tensor.empty() : tensor<3x3xf32>
  %pe = tensor.empty() : tensor<2x2x2x2xf32>
  %pz = linalg.fill ins(%zero : f32) outs(%pe : tensor<2x2x2x2xf32>) -> tensor<2x2x2x2xf32>
  %sum = linalg.generic {indexing_maps = [#kmap, #omap], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%k : tensor<3x3xf32>) outs(%pz : tensor<2x2x2x2xf32>) {
  ^bb0(%kk: f32, %acc: f32):
    %n = linalg.index 0 : index
    %ch = linalg.index 1 : index
    %oh = linalg.index 2 : index
    %ow = linalg.index 3 : index
    %kh = linalg.index 4 : index
    %kw = linalg.index 5 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c4 = arith.constant 4 : index
    %c5 = arith.constant 5 : index
    %sh0 = arith.muli %oh, %c5 : index
    %sh = arith.divui %sh0, %c2 : index
    %eh0 = arith.addi %oh, %c1 : index
    %eh1 = arith.muli %eh0, %c5 : index
    %eh2 = arith.addi %eh1, %c1 : index
    %eh = arith.divui %eh2, %c2 : index
    %ih = arith.addi %sh, %kh : index
    %inh = arith.cmpi ult, %ih, %eh : index
    %ihc = arith.minui %ih, %c4 : index
    %sw0 = arith.muli %ow, %c5 : index
    %sw = arith.divui %sw0, %c2 : index
    %ew0 = arith.addi %ow, %c1 : index
    %ew1 = arith.muli %ew0, %c5 : index
    %ew2 = arith.addi %ew1, %c1 : index
    %ew = arith.divui %ew2, %c2 : index
    %iw = arith.addi %sw, %kw : index
    %inw = arith.cmpi ult, %iw, %ew : index
    %iwc = arith.minui %iw, %c4 : index
    %v = tensor.extract %xa[%n, %ch, %ihc, %iwc] : tensor<2x2x5x5xf32>
    %in = arith.andi %inh, %inw : i1
    %vz = arith.select %in, %v, %zero : f32
    %r = arith.addf %acc, %vz : f32
    linalg.yield %r : f32
  } -> tensor<2x2x2x2xf32>
  %avg = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c, h, w)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%sum : tensor<2x2x2x2xf32>) outs(%pe : tensor<2x2x2x2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %ninth = arith.constant 0.111111 : f32
    %m = arith.mulf %a, %ninth : f32
    linalg.yield %m : f32
  } -> tensor<2x2x2x2xf32>
  %f = tensor.collapse_shape %avg [[0], [1, 2, 3]] : tensor<2x2x2x2xf32> into tensor<2x8xf32>
  %w = arith.constant dense<[[0.12, -0.3, 0.25], [0.4, 0.1, -0.2], [-0.35, 0.22, 0.05], [0.18, -0.27, 0.33], [0.07, 0.29, -0.41], [-0.16, 0.38, 0.11], [0.26, -0.09, -0.31], [0.21, 0.15, -0.12]]> : tensor<8x3xf32> loc("fc.weight")
  %e2 = tensor.empty() : tensor<2x3xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul ins(%f, %w : tensor<2x8xf32>, tensor<8x3xf32>) outs(%z2 : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// extract_slice and insert_slice with dynamic offsets (SSA values).
// RUN: clusterc gradcheck --function=slice_dynamic %s | FileCheck %s
func.func @slice_dynamic(%x: tensor<2x3xf32>) -> tensor<2x5xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[0.31, -0.52, 0.13, 0.44], [-0.25, 0.61, -0.37, 0.08], [0.57, 0.22, -0.46, -0.19]]> : tensor<3x4xf32> loc("fc1.weight")
  %w2 = arith.constant dense<[[0.12, -0.3, 0.25, 0.4, 0.1], [-0.2, -0.35, 0.22, 0.05, 0.18], [-0.27, 0.33, 0.07, 0.29, -0.41]]> : tensor<3x5xf32> loc("fc2.weight")
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %m = linalg.matmul ins(%x, %w : tensor<2x3xf32>, tensor<3x4xf32>) outs(%z : tensor<2x4xf32>) -> tensor<2x4xf32>
  %e2 = tensor.empty() : tensor<2x5xf32>
  %z2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x5xf32>) -> tensor<2x5xf32>
  %m2 = linalg.matmul ins(%x, %w2 : tensor<2x3xf32>, tensor<3x5xf32>) outs(%z2 : tensor<2x5xf32>) -> tensor<2x5xf32>
  %o = arith.constant 1 : index
  %o2 = arith.constant 2 : index
  %s = tensor.extract_slice %m[0, %o] [2, 3] [1, 1] : tensor<2x4xf32> to tensor<2x3xf32>
  %r = tensor.insert_slice %s into %m2[0, %o2] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x5xf32>
  return %r : tensor<2x5xf32>
}

// An embedding (a table read at indices computed from the input): its
// gradient is the same scatter-add, in float and STE (the table is a
// clustered weight).
// RUN: clusterc gradcheck --function=embedding %s | FileCheck %s
// RUN: clusterc gradcheck --function=embedding --mode=ste --clusters=4 --min-elements=1 %s | FileCheck %s
func.func @embedding(%x: tensor<2x3xf32>) -> tensor<2x4xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[0.31, -0.52, 0.13, 0.44], [-0.25, 0.61, -0.37, 0.08], [0.57, 0.22, -0.46, -0.19], [0.12, -0.3, 0.25, 0.4], [0.1, -0.2, -0.35, 0.22], [0.05, 0.18, -0.27, 0.33]]> : tensor<6x4xf32> loc("embed.weight")
  %e = tensor.empty() : tensor<2x4xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(b, t, d) -> (b, t)>, affine_map<(b, t, d) -> (b, d)>], iterator_types = ["parallel", "reduction", "parallel"]} ins(%x : tensor<2x3xf32>) outs(%z : tensor<2x4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %d = linalg.index 2 : index
    %scale = arith.constant 5.9 : f32
    %c5 = arith.constant 5 : index
    %abs = math.absf %a : f32
    %sa = arith.mulf %abs, %scale : f32
    %i = arith.fptosi %sa : f32 to i32
    %ix0 = arith.index_cast %i : i32 to index
    %ix = arith.minui %ix0, %c5 : index
    %v = tensor.extract %w[%ix, %d] : tensor<6x4xf32>
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  } -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
