// C entry points missing from MLIR 19's C API; see capi-ext.h.
#include "capi-ext.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"

using namespace mlir;

bool clustercResourceGetData(MlirAttribute attr, const void **data,
                             size_t *size) {
  auto res = llvm::dyn_cast<DenseResourceElementsAttr>(unwrap(attr));
  if (!res)
    return false;
  AsmResourceBlob *blob = res.getRawHandle().getBlob();
  if (!blob)
    return false;
  ArrayRef<char> bytes = blob->getData();
  *data = bytes.data();
  *size = bytes.size();
  return true;
}

MlirAttribute clustercElementsAttrReshape(MlirAttribute attr, MlirType type) {
  auto shaped = llvm::dyn_cast<ShapedType>(unwrap(type));
  Attribute a = unwrap(attr);
  auto same = [&](ShapedType from) {
    return shaped && shaped.hasStaticShape() && from.hasStaticShape() &&
           from.getNumElements() == shaped.getNumElements() &&
           from.getElementType() == shaped.getElementType();
  };
  if (auto d = llvm::dyn_cast<DenseElementsAttr>(a))
    return same(d.getType()) ? wrap(Attribute(d.reshape(shaped))) : MlirAttribute{nullptr};
  if (auto r = llvm::dyn_cast<DenseResourceElementsAttr>(a))
    return same(r.getType())
               ? wrap(Attribute(DenseResourceElementsAttr::get(shaped, r.getRawHandle())))
               : MlirAttribute{nullptr};
  return {nullptr};
}

MlirModule clustercParseSourceString(MlirContext ctx, MlirStringRef source,
                                     MlirStringRef filename) {
  ParserConfig config(unwrap(ctx));
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(unwrap(source), config, unwrap(filename));
  if (!module)
    return MlirModule{nullptr};
  return MlirModule{module.release().getOperation()};
}

// Walks a location tree depth first and returns the first match of F.
template <typename F> static bool findLoc(Location loc, F &&pred) {
  if (pred(loc))
    return true;
  if (auto fused = llvm::dyn_cast<FusedLoc>(loc)) {
    for (Location l : fused.getLocations())
      if (findLoc(l, pred))
        return true;
  } else if (auto cs = llvm::dyn_cast<CallSiteLoc>(loc)) {
    return findLoc(cs.getCallee(), pred) || findLoc(cs.getCaller(), pred);
  } else if (auto n = llvm::dyn_cast<NameLoc>(loc)) {
    return findLoc(n.getChildLoc(), pred);
  } else if (auto o = llvm::dyn_cast<OpaqueLoc>(loc)) {
    return findLoc(o.getFallbackLocation(), pred);
  }
  return false;
}

bool clustercLocationGetName(MlirLocation loc, MlirStringRef *name) {
  return findLoc(unwrap(loc), [&](Location l) {
    if (auto n = llvm::dyn_cast<NameLoc>(l)) {
      *name = wrap(n.getName().strref());
      return true;
    }
    return false;
  });
}

bool clustercLocationGetFileLineCol(MlirLocation loc, MlirStringRef *file,
                                    unsigned *line, unsigned *col) {
  return findLoc(unwrap(loc), [&](Location l) {
    if (auto f = llvm::dyn_cast<FileLineColLoc>(l)) {
      *file = wrap(f.getFilename().strref());
      *line = f.getLine();
      *col = f.getColumn();
      return true;
    }
    return false;
  });
}

MlirOperation clustercNearestSymbolTable(MlirOperation op) {
  Operation *from = unwrap(op);
  return wrap(from ? SymbolTable::getNearestSymbolTable(from) : nullptr);
}

MlirOperation clustercLookupSymbolFrom(MlirOperation from, MlirStringRef name) {
  Operation *op = unwrap(from);
  return wrap(SymbolTable::lookupNearestSymbolFrom(
      op, StringAttr::get(op->getContext(), unwrap(name))));
}

void clustercEmitWarning(MlirLocation loc, const char *message) {
  mlir::emitWarning(unwrap(loc), message);
}
