ÿØÿà JFIF
// NOT-TEXT: not-text.mlir:{{[0-9]+}}:1: error: unexpected character

