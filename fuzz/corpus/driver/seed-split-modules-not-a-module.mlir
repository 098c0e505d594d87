// NOT-MODULE: not-a-module.mlir:[[@LINE+1]]:1: error: expected operation name in quotes
{ "layers": [] }

