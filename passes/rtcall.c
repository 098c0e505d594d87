/* Runtime calls in destination-passing style; see rtcall.h. */
#include "rtcall.h"

static MlirType dyn1(MlirType elem) {
  int64_t d = mlirShapedTypeGetDynamicSize();
  return mlirRankedTensorTypeGet(1, &d, elem, mlirAttributeGetNull());
}

static MlirType rtArgType(MlirContext ctx, char k) {
  int64_t dyn = mlirShapedTypeGetDynamicSize();
  switch (k) {
  case 'f': return dyn1(mlirF32TypeGet(ctx));
  case 'b': return dyn1(mlirIntegerTypeGet(ctx, 8));
  case 'h': return dyn1(mlirIntegerTypeGet(ctx, 16));
  case 'l': return dyn1(mlirIntegerTypeGet(ctx, 64));
  case 'F': {
    int64_t d[3] = {dyn, dyn, dyn};
    return mlirRankedTensorTypeGet(3, d, mlirF32TypeGet(ctx), mlirAttributeGetNull());
  }
  default: return mlirIntegerTypeGet(ctx, 32);
  }
}

/* Declares fn in `module` unless present: private, llvm.emit_c_interface,
 * each tensor argument marked bufferization.access read or write so that
 * one-shot bufferization neither copies inputs nor the output buffer. */
void rtDeclare(MlirOperation module, const RtFn *fn) {
  MlirContext ctx = mlirOperationGetContext(module);
  MlirSymbolTable st = mlirSymbolTableCreate(module);
  bool have = !mlirOperationIsNull(mlirSymbolTableLookup(st, irStr(fn->name)));
  mlirSymbolTableDestroy(st);
  if (have)
    return;
  MlirType args[8];
  MlirAttribute argAttrs[8];
  for (int i = 0; i < fn->nArgs; ++i) {
    args[i] = rtArgType(ctx, fn->args[i]);
    if (fn->args[i] == 'i') {
      argAttrs[i] = mlirDictionaryAttrGet(ctx, 0, NULL);
      continue;
    }
    MlirNamedAttribute acc = irNamed(ctx, "bufferization.access",
                                     mlirStringAttrGet(ctx, irStr(fn->access[i] == 'w' ? "write" : "read")));
    argAttrs[i] = mlirDictionaryAttrGet(ctx, 1, &acc);
  }
  MlirType i32 = mlirIntegerTypeGet(ctx, 32);
  MlirType ft = mlirFunctionTypeGet(ctx, fn->nArgs, args, 1, &i32);
  MlirNamedAttribute attrs[5] = {
      irNamed(ctx, "sym_name", mlirStringAttrGet(ctx, irStr(fn->name))),
      irNamed(ctx, "function_type", mlirTypeAttrGet(ft)),
      irNamed(ctx, "sym_visibility", mlirStringAttrGet(ctx, irStr("private"))),
      irNamed(ctx, "llvm.emit_c_interface", mlirUnitAttrGet(ctx)),
      irNamed(ctx, "arg_attrs", mlirArrayAttrGet(ctx, fn->nArgs, argAttrs))};
  MlirOperationState s = mlirOperationStateGet(irStr("func.func"),
                                               mlirOperationGetLocation(module));
  mlirOperationStateAddAttributes(&s, 5, attrs);
  MlirRegion r = mlirRegionCreate();
  mlirOperationStateAddOwnedRegions(&s, 1, &r);
  MlirBlock body = mlirRegionGetFirstBlock(mlirOperationGetRegion(module, 0));
  mlirBlockInsertOwnedOperation(body, 0, mlirOperationCreate(&s));
}

/* func.call fn(args...) where the output argument `out` (a tensor.empty) is
 * written in place; returns out, which holds the result afterwards. */
MlirValue rtCall(IrBuilder *b, const RtFn *fn, const MlirValue *args) {
  MlirType i32 = mlirIntegerTypeGet(b->ctx, 32);
  MlirNamedAttribute callee = irNamed(
      b->ctx, "callee", mlirFlatSymbolRefAttrGet(b->ctx, irStr(fn->name)));
  irCreate(b, "func.call", fn->nArgs, args, 1, &i32, 1, &callee);
  for (int i = 0; i < fn->nArgs; ++i)
    if (fn->access[i] == 'w')
      return args[i];
  return (MlirValue){NULL};
}
