// Options of cluster-weights: selection, overrides, inits, per-channel,
// sparsity, f16/bf16 and determinism. Three 8x16 weights a, b, c.
// RUN: clusterc --only='#-3' --clusters=2 %s -o /dev/null --report=json=- | FileCheck %s --check-prefix=ONLY
// RUN: clusterc --layers='a*:4,#1:skip' --clusters=8 %s -o /dev/null --report=json=- | FileCheck %s --check-prefix=LAYERS
// RUN: clusterc --pass-options="only=b.weight,#0..0 clusters=3" %s -o /dev/null --report=json=- | FileCheck %s --check-prefix=PASSOPT
// RUN: clusterc --clusters=4 --per-channel --only=a.weight %s | FileCheck %s --check-prefix=PC
// RUN: clusterc --clusters=4 --per-channel --channel-axis=1 --only=a.weight %s | FileCheck %s --check-prefix=PC1
// RUN: clusterc --clusters=4 --preserve-sparsity --only=c.weight %s | FileCheck %s --check-prefix=SPARSE
// RUN: clusterc --clusters=4 --preserve-sparsity --decode=fold --only=c.weight %s | FileCheck %s --check-prefix=SPARSEFOLD
// RUN: clusterc --clusters=4 --only=h.weight %s | FileCheck %s --check-prefix=F16
// RUN: clusterc --clusters=4 --only=bf.weight %s | FileCheck %s --check-prefix=BF16
// RUN: clusterc --clusters=300 --min-elements=0 --only=a.weight --report %s 2>&1 >/dev/null | FileCheck %s --check-prefix=LOSSLESS
// RUN: for init in linear random density kmeans++ kmeans1d; do clusterc --init=$init --clusters=5 --seed=3 %s -o %t.$init.1.mlir --report=json=%t.$init.json && clusterc --init=$init --clusters=5 --seed=3 %s -o %t.$init.2.mlir && cmp %t.$init.1.mlir %t.$init.2.mlir && FileCheck %s --check-prefix=INIT < %t.$init.json || exit 1; done

// ONLY-NOT: "clustered": true
// ONLY: "name": "c.weight", {{.*}} "clustered": true, "k_requested": 2, "k": 2, {{.*}} "bits": 1
// ONLY-NOT: "clustered": true

// LAYERS: "name": "a.weight", {{.*}} "clustered": true, "k_requested": 4
// LAYERS: "name": "b.weight", {{.*}} "clustered": false, {{.*}} "reason": "skipped by layers="
// LAYERS: "name": "c.weight", {{.*}} "clustered": true, "k_requested": 8, "k": 8, {{.*}} "bits": 3

// PASSOPT: "name": "a.weight", {{.*}} "clustered": true, "k_requested": 3, "k": 3, {{.*}} "bits": 2
// PASSOPT: "name": "b.weight", {{.*}} "clustered": true
// PASSOPT: "name": "c.weight", {{.*}} "clustered": false, {{.*}} "reason": "not selected by only="

// a.weight feeds linalg.matmul as B [K=8, N=16]: output channels are axis 1.
// PC-LABEL: func.func @model
// PC: %[[T:.*]] = arith.constant {clusterc.palette = "centroids"} dense<{{.*}}> : tensor<16x4xf32>
// PC: linalg.generic
// PC: linalg.index 1 : index
// PC: tensor.extract %[[T]][%{{.*}}, %{{.*}}] : tensor<16x4xf32>
// PC1-LABEL: func.func @model
// PC1: arith.constant {clusterc.palette = "centroids"} dense<{{.*}}> : tensor<16x4xf32>

// SPARSE-LABEL: func.func @model
// SPARSE: arith.constant {clusterc.palette = "centroids"} dense<[{{.*}}0.000000e+00{{.*}}]> : tensor<4xf32>
// Every third weight of c is zero and stays exactly zero:
// SPARSEFOLD-LABEL: func.func @model
// SPARSEFOLD: arith.constant {clusterc.palette = "decoded"} dense<"0x00000000{{([0-9A-F]{16})}}00000000{{([0-9A-F]{16})}}00000000{{([0-9A-F]{16})}}00000000

// F16-LABEL: func.func @model
// F16: %[[T:.*]] = arith.constant {clusterc.palette = "centroids"} dense<[{{.*}}]> : tensor<4xf16>
// F16: tensor.extract %[[T]][%{{.*}}] : tensor<4xf16>
// BF16-LABEL: func.func @model
// BF16: arith.constant {clusterc.palette = "centroids"} dense<[{{.*}}]> : tensor<4xbf16>

// LOSSLESS: a.weight {{.*}} f32 {{ *}}124 {{ *}}7 {{ *}}512 {{ *}}608 {{.*}} 0 {{ *}}inf

// INIT: "name": "a.weight", {{.*}} "clustered": true, "k_requested": 5, "k": 5, {{.*}} "bits": 3
// INIT: "name": "c.weight", {{.*}} "clustered": true, "k_requested": 5, "k": 5, {{.*}} "bits": 3

func.func @model(%x: tensor<1x8xf32>, %xh: tensor<1x8xf16>, %xb: tensor<1x8xbf16>) -> (tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf16>, tensor<1x16xbf16>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16xf32>) -> tensor<1x16xf32>
  %a = arith.constant dense<[[-1.179, -1.148, 0.669, -2.294, -0.143, -2.256, 1.101, 0.203, 1.356, -0.504, 0.398, -0.286, -0.738, 0.145, -1.257, -0.355], [0.697, 0.058, -0.41, 2.189, 0.058, -0.587, 0.16, -0.523, -0.385, -0.35, 2.025, 0.023, 0.176, 0.674, 2.017, -0.224], [-0.624, 2.475, -1.46, -0.367, 0.667, 2.284, -0.95, -2.428, 0.662, -0.522, -0.387, 0.461, 0.224, 0.291, -0.431, 1.289], [1.505, 0.032, -0.452, 0.733, 0.478, -1.04, -0.46, 1.049, -0.096, -0.329, 0.212, -0.034, -0.002, -1.931, 1.749, 0.199], [-0.877, 0.98, 0.309, 0.018, 1.048, 2.261, 0.554, 1.585, 2.157, -1.021, -0.523, 0.776, -1.708, -0.267, 1.293, 1.043], [0.579, -1.895, 2.351, 0.551, 0.767, 0.495, -1.716, -1.435, -1.217, 1.918, -0.831, -0.242, -0.255, 0.571, 0.501, 0.268], [-1.262, -3.139, 0.166, 0.268, 1.231, -0.103, -0.611, 0.41, -1.554, -1.042, -1.006, 0.288, 2.091, 0.763, 1.142, 0.238], [0.279, -0.449, -0.281, -2.43, -1.203, -1.287, 0.837, 0.663, 1.142, 1.556, -0.305, 1.055, 1.956, -0.009, 1.087, -0.165]]> : tensor<8x16xf32> loc("a.weight")
  %ya = linalg.matmul ins(%x, %a : tensor<1x8xf32>, tensor<8x16xf32>) outs(%z : tensor<1x16xf32>) -> tensor<1x16xf32>
  %b = arith.constant dense<[[-1.613, 0.12, -0.822, 0.109, -0.463, 0.32, -2.137, 2.084, 1.36, -0.351, -0.909, 0.004, 0.676, 0.424, 0.402, -1.97], [-1.131, 1.344, 0.24, -1.521, -0.868, -1.448, -1.021, 1.181, -0.222, 1.132, 0.19, -1.521, -0.656, 2.322, -0.777, -1.065], [1.255, 0.091, -0.006, 1.492, -1.792, 0.425, -1.074, -1.429, -0.829, 1.174, -0.143, -1.871, -1.131, 1.556, 1.045, -1.114], [2.476, -0.374, -1.22, -0.14, 0.957, 1.646, 1.052, -0.437, -0.574, -1.488, -0.076, -0.609, 0.25, -1.295, -0.529, -0.901], [-1.23, -1.211, -1.042, -1.21, 0.582, 0.102, -1.351, 0.524, 0.294, 1.493, -0.199, -0.214, -0.705, 0.127, 0.505, 0.179], [-0.26, 0.577, 0.094, 0.253, -0.955, 0.211, -1.019, -0.863, 0.165, 2.155, 1.02, 0.004, -0.183, 1.011, 1.415, 1.248], [-0.19, 0.193, -0.337, -0.292, -0.874, -0.255, -2.202, -1.227, 0.435, -0.947, 0.553, -1.323, -0.378, 0.405, -1.061, -0.73], [2.529, -0.697, -0.722, -0.587, 0.034, -0.027, 1.006, 0.81, -0.413, -0.365, -1.447, -1.531, -0.756, 0.748, 0.123, 0.821]]> : tensor<8x16xf32> loc("b.weight")
  %yb = linalg.matmul ins(%x, %b : tensor<1x8xf32>, tensor<8x16xf32>) outs(%z : tensor<1x16xf32>) -> tensor<1x16xf32>
  %c = arith.constant dense<[[0.0, -0.168, 2.148, 0.0, -0.639, -0.439, 0.0, -0.14, -0.756, 0.0, 1.158, -0.115, 0.0, 1.109, 1.005, 0.0], [-0.781, 0.29, 0.0, -1.836, 1.229, 0.0, -0.348, 2.314, 0.0, -0.736, -0.064, 0.0, 0.831, -0.058, 0.0, -0.712], [-0.835, 0.0, -0.021, -0.501, 0.0, -0.844, -0.885, 0.0, -0.356, 1.176, 0.0, 0.21, -0.042, 0.0, 0.743, 0.173], [0.0, 0.614, 0.957, 0.0, 1.729, 0.159, 0.0, 0.574, -0.367, 0.0, -2.189, 0.25, 0.0, 0.657, 0.395, 0.0], [-0.542, 1.803, 0.0, 0.767, -0.363, 0.0, -0.395, 1.697, 0.0, -0.295, -1.251, 0.0, -0.896, 0.013, 0.0, 1.091], [0.143, 0.0, 0.232, 1.836, 0.0, -1.426, 1.581, 0.0, 3.545, -0.478, 0.0, -0.302, 0.385, 0.0, -1.503, -1.956], [0.0, -0.523, -0.59, 0.0, 0.809, 1.11, 0.0, 0.305, -0.214, 0.0, 0.759, 0.614, 0.0, 0.151, -1.466, 0.0], [0.388, -0.371, 0.0, 0.362, -0.937, 0.0, 0.897, -0.365, 0.0, 0.531, 0.822, 0.0, -2.195, -0.081, 0.0, -0.471]]> : tensor<8x16xf32> loc("c.weight")
  %yc = linalg.matmul ins(%x, %c : tensor<1x8xf32>, tensor<8x16xf32>) outs(%z : tensor<1x16xf32>) -> tensor<1x16xf32>
  %zeroh = arith.constant 0.0 : f16
  %eh = tensor.empty() : tensor<1x16xf16>
  %zh = linalg.fill ins(%zeroh : f16) outs(%eh : tensor<1x16xf16>) -> tensor<1x16xf16>
  %wh = arith.constant dense<[[-0.105, 1.262, -0.044, 1.666, -0.533, -0.057, 0.094, 0.959, -0.052, -0.627, -0.333, -1.42, 1.277, 0.758, 0.434, 0.28], [-0.613, -0.411, 0.819, -0.799, -0.793, 1.598, 1.579, 0.296, 0.54, 0.189, 1.444, -0.449, 0.084, 0.49, 1.457, -0.252], [0.235, -0.496, -0.662, -0.661, 0.085, 0.896, -0.699, -0.607, -0.408, 0.356, 0.705, -1.261, 0.358, -1.004, 0.719, -0.97], [-1.09, -0.717, -0.062, -1.001, 0.213, 0.149, 0.084, 0.271, 0.879, -0.734, 0.002, -0.03, -2.063, 0.391, -0.774, -0.722], [-0.448, 0.098, 0.332, 0.486, -0.696, 0.7, 0.42, -0.392, -0.021, 0.806, 0.434, 0.699, 0.107, 1.142, 2.227, 0.455], [-1.603, 1.729, -0.571, -1.384, -2.374, 0.426, 1.097, 1.003, -0.383, 1.449, -0.077, -0.592, 0.068, 0.214, 0.049, 0.401], [-2.192, 1.57, -0.569, 0.651, -0.8, 0.163, -0.176, -1.581, 0.384, 0.635, -1.116, -2.097, -0.646, -0.842, 0.111, -0.017], [1.613, 0.649, -0.256, 0.162, -2.883, -0.905, -0.922, -0.11, 0.32, 0.214, 0.935, -0.69, 0.306, -0.131, 0.013, 0.322]]> : tensor<8x16xf16> loc("h.weight")
  %yh = linalg.matmul ins(%xh, %wh : tensor<1x8xf16>, tensor<8x16xf16>) outs(%zh : tensor<1x16xf16>) -> tensor<1x16xf16>
  %zerobf = arith.constant 0.0 : bf16
  %ebf = tensor.empty() : tensor<1x16xbf16>
  %zbf = linalg.fill ins(%zerobf : bf16) outs(%ebf : tensor<1x16xbf16>) -> tensor<1x16xbf16>
  %wbf = arith.constant dense<[[-0.281, 0.212, -0.035, 1.022, -0.112, 0.305, 2.595, 0.625, 0.512, 1.077, -1.007, 0.709, 0.749, 0.439, 0.973, 0.784], [1.189, -0.641, 0.432, -0.544, 1.238, 0.136, -1.297, 0.11, -1.001, 0.98, -0.337, -2.184, -0.387, 1.021, 0.329, -0.632], [0.646, 0.574, 1.466, 0.9, 0.366, -0.785, 0.283, 0.301, 0.014, 0.42, -1.182, 0.569, 0.01, 0.356, -0.096, -0.299], [0.254, 0.78, -0.32, 0.325, -0.762, 0.415, 0.019, -1.274, 1.157, -0.885, 0.08, -1.305, -1.722, 0.655, -1.393, -2.062], [-0.214, -1.539, -0.203, 1.817, -0.391, 0.356, 0.558, 0.245, -0.119, 1.496, -0.08, 0.353, 0.11, -1.272, 0.318, 0.055], [0.643, 0.686, 1.554, -1.883, -0.553, -0.469, -0.856, 0.41, -0.077, 0.139, -1.616, -0.948, -0.065, -0.443, -0.602, -0.116], [-0.274, -1.052, 1.649, -0.67, 0.643, 0.591, 0.957, -0.566, -0.988, 0.434, 0.258, -2.333, -2.589, -0.538, -0.385, -0.265], [0.41, -0.959, 2.615, 0.892, 1.284, 0.269, -2.053, 0.233, -0.545, 0.435, -0.113, 0.661, -0.868, -0.359, 0.005, -0.744]]> : tensor<8x16xbf16> loc("bf.weight")
  %ybf = linalg.matmul ins(%xb, %wbf : tensor<1x8xbf16>, tensor<8x16xbf16>) outs(%zbf : tensor<1x16xbf16>) -> tensor<1x16xbf16>
  return %ya, %yb, %yc, %yh, %ybf : tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf32>, tensor<1x16xf16>, tensor<1x16xbf16>
}
