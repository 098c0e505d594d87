/*
 * memrefCopy for compiled models, as LLVM IR linked into each module that
 * calls it.
 *
 * finalize-memref-to-llvm lowers a memref.copy between non-contiguous
 * memrefs (e.g. the interior of a padded tensor, from tensor.pad) to a call
 * `memrefCopy(elemSize, UnrankedMemRef *src, UnrankedMemRef *dst)`, which
 * MLIR's libmlir_c_runner_utils defines. A shipped model should not need that
 * library, so the driver links this definition in and makes it internal:
 * every object carries its own copy and two models never clash.
 *
 * The IR is clang-19 -O2 output (no vectorization or unrolling; metadata,
 * attributes and the target stripped: it is valid for any 64-bit target) of:
 *
 * #include <stdint.h>
 * #include <string.h>
 * typedef struct { int64_t rank; char *desc; } U;
 * // desc: allocated, aligned, offset, sizes[rank], strides[rank]
 * void memrefCopy(int64_t es, U *src, U *dst) {
 *   int64_t rank = src->rank;
 *   char *sd = src->desc, *dd = dst->desc;
 *   char *s, *d;
 *   memcpy(&s, sd + 8, 8);
 *   memcpy(&d, dd + 8, 8);
 *   int64_t so, doff;
 *   memcpy(&so, sd + 16, 8);
 *   memcpy(&doff, dd + 16, 8);
 *   s += so * es;
 *   d += doff * es;
 *   const int64_t *size = (const int64_t *)(sd + 24), *ss = size + rank,
 *                 *ds = (const int64_t *)(dd + 24) + rank;
 *   if (rank == 0) {
 *     memcpy(d, s, es);
 *     return;
 *   }
 *   for (int64_t i = 0; i < rank; ++i)
 *     if (size[i] == 0)
 *       return;
 *   int64_t idx[rank];
 *   for (int64_t i = 0; i < rank; ++i)
 *     idx[i] = 0;
 *   int64_t last = rank - 1;
 *   int64_t inner = (ss[last] == 1 && ds[last] == 1) ? size[last] : 1;
 *   for (;;) {
 *     memcpy(d, s, (size_t)(es * inner));
 *     int64_t k = last;
 *     if (inner == 1) {
 *       if (++idx[k] < size[k]) { s += ss[k] * es; d += ds[k] * es; continue; }
 *       s -= (size[k] - 1) * ss[k] * es; d -= (size[k] - 1) * ds[k] * es; idx[k] = 0;
 *     }
 *     for (--k; k >= 0; --k) {
 *       if (++idx[k] < size[k]) { s += ss[k] * es; d += ds[k] * es; break; }
 *       s -= (size[k] - 1) * ss[k] * es; d -= (size[k] - 1) * ds[k] * es; idx[k] = 0;
 *     }
 *     if (k < 0) return;
 *   }
 * }
 */
#include "internal.h"

const char cgMemrefCopyIR[] =
    "define void @memrefCopy(i64 noundef %0, ptr nocapture noundef readonly %1, ptr nocapture noundef readonly %2)  {\n"
    "  %4 = load i64, ptr %1, align 8\n"
    "  %5 = getelementptr inbounds i8, ptr %1, i64 8\n"
    "  %6 = load ptr, ptr %5, align 8\n"
    "  %7 = getelementptr inbounds i8, ptr %2, i64 8\n"
    "  %8 = load ptr, ptr %7, align 8\n"
    "  %9 = getelementptr inbounds i8, ptr %6, i64 8\n"
    "  %10 = load ptr, ptr %9, align 1\n"
    "  %11 = getelementptr inbounds i8, ptr %8, i64 8\n"
    "  %12 = load ptr, ptr %11, align 1\n"
    "  %13 = getelementptr inbounds i8, ptr %6, i64 16\n"
    "  %14 = load i64, ptr %13, align 1\n"
    "  %15 = getelementptr inbounds i8, ptr %8, i64 16\n"
    "  %16 = load i64, ptr %15, align 1\n"
    "  %17 = mul nsw i64 %14, %0\n"
    "  %18 = getelementptr inbounds i8, ptr %10, i64 %17\n"
    "  %19 = mul nsw i64 %16, %0\n"
    "  %20 = getelementptr inbounds i8, ptr %12, i64 %19\n"
    "  %21 = getelementptr inbounds i8, ptr %6, i64 24\n"
    "  %22 = getelementptr inbounds i64, ptr %21, i64 %4\n"
    "  %23 = getelementptr inbounds i8, ptr %8, i64 24\n"
    "  %24 = getelementptr inbounds i64, ptr %23, i64 %4\n"
    "  %25 = icmp eq i64 %4, 0\n"
    "  br i1 %25, label %31, label %26\n"
    "\n"
    "26:\n"
    "  %27 = icmp sgt i64 %4, 0\n"
    "  br i1 %27, label %35, label %28\n"
    "\n"
    "28:\n"
    "  %29 = tail call ptr @llvm.stacksave.p0()\n"
    "  %30 = alloca i64, i64 %4, align 16\n"
    "  br label %45\n"
    "\n"
    "31:\n"
    "  tail call void @llvm.memcpy.p0.p0.i64(ptr align 1 %20, ptr align 1 %18, i64 %0, i1 false)\n"
    "  br label %133\n"
    "\n"
    "32:\n"
    "  %33 = add nuw nsw i64 %36, 1\n"
    "  %34 = icmp eq i64 %33, %4\n"
    "  br i1 %34, label %40, label %35\n"
    "\n"
    "35:\n"
    "  %36 = phi i64 [ %33, %32 ], [ 0, %26 ]\n"
    "  %37 = getelementptr inbounds i64, ptr %21, i64 %36\n"
    "  %38 = load i64, ptr %37, align 8\n"
    "  %39 = icmp eq i64 %38, 0\n"
    "  br i1 %39, label %133, label %32\n"
    "\n"
    "40:\n"
    "  %41 = tail call ptr @llvm.stacksave.p0()\n"
    "  %42 = alloca i64, i64 %4, align 16\n"
    "  br i1 %27, label %43, label %45\n"
    "\n"
    "43:\n"
    "  %44 = shl nuw i64 %4, 3\n"
    "  call void @llvm.memset.p0.i64(ptr nonnull align 16 %42, i8 0, i64 %44, i1 false)\n"
    "  br label %45\n"
    "\n"
    "45:\n"
    "  %46 = phi ptr [ %30, %28 ], [ %42, %43 ], [ %42, %40 ]\n"
    "  %47 = phi ptr [ %29, %28 ], [ %41, %43 ], [ %41, %40 ]\n"
    "  %48 = add nsw i64 %4, -1\n"
    "  %49 = getelementptr inbounds i64, ptr %22, i64 %48\n"
    "  %50 = load i64, ptr %49, align 8\n"
    "  %51 = icmp eq i64 %50, 1\n"
    "  br i1 %51, label %52, label %59\n"
    "\n"
    "52:\n"
    "  %53 = getelementptr inbounds i64, ptr %24, i64 %48\n"
    "  %54 = load i64, ptr %53, align 8\n"
    "  %55 = icmp eq i64 %54, 1\n"
    "  br i1 %55, label %56, label %59\n"
    "\n"
    "56:\n"
    "  %57 = getelementptr inbounds i64, ptr %21, i64 %48\n"
    "  %58 = load i64, ptr %57, align 8\n"
    "  br label %59\n"
    "\n"
    "59:\n"
    "  %60 = phi i64 [ %58, %56 ], [ 1, %52 ], [ 1, %45 ]\n"
    "  %61 = mul nsw i64 %60, %0\n"
    "  %62 = icmp eq i64 %60, 1\n"
    "  %63 = getelementptr inbounds i64, ptr %46, i64 %48\n"
    "  %64 = getelementptr inbounds i64, ptr %21, i64 %48\n"
    "  %65 = getelementptr inbounds i64, ptr %24, i64 %48\n"
    "  %66 = add nsw i64 %4, -2\n"
    "  %67 = icmp sgt i64 %4, 1\n"
    "  br label %68\n"
    "\n"
    "68:\n"
    "  %69 = phi ptr [ %20, %59 ], [ %131, %125 ]\n"
    "  %70 = phi ptr [ %18, %59 ], [ %128, %125 ]\n"
    "  tail call void @llvm.memcpy.p0.p0.i64(ptr align 1 %69, ptr align 1 %70, i64 %61, i1 false)\n"
    "  br i1 %62, label %71, label %91\n"
    "\n"
    "71:\n"
    "  %72 = load i64, ptr %63, align 8\n"
    "  %73 = add nsw i64 %72, 1\n"
    "  store i64 %73, ptr %63, align 8\n"
    "  %74 = load i64, ptr %64, align 8\n"
    "  %75 = icmp slt i64 %73, %74\n"
    "  br i1 %75, label %76, label %80\n"
    "\n"
    "76:\n"
    "  %77 = load i64, ptr %49, align 8\n"
    "  %78 = mul nsw i64 %77, %0\n"
    "  %79 = getelementptr inbounds i8, ptr %70, i64 %78\n"
    "  br label %125\n"
    "\n"
    "80:\n"
    "  %81 = add nsw i64 %74, -1\n"
    "  %82 = load i64, ptr %49, align 8\n"
    "  %83 = mul i64 %81, %0\n"
    "  %84 = mul i64 %83, %82\n"
    "  %85 = sub i64 0, %84\n"
    "  %86 = getelementptr inbounds i8, ptr %70, i64 %85\n"
    "  %87 = load i64, ptr %65, align 8\n"
    "  %88 = mul i64 %83, %87\n"
    "  %89 = sub i64 0, %88\n"
    "  %90 = getelementptr inbounds i8, ptr %69, i64 %89\n"
    "  store i64 0, ptr %63, align 8\n"
    "  br label %91\n"
    "\n"
    "91:\n"
    "  %92 = phi ptr [ %90, %80 ], [ %69, %68 ]\n"
    "  %93 = phi ptr [ %86, %80 ], [ %70, %68 ]\n"
    "  br i1 %67, label %94, label %132\n"
    "\n"
    "94:\n"
    "  %95 = phi i64 [ %117, %104 ], [ %66, %91 ]\n"
    "  %96 = phi ptr [ %111, %104 ], [ %93, %91 ]\n"
    "  %97 = phi ptr [ %116, %104 ], [ %92, %91 ]\n"
    "  %98 = getelementptr inbounds i64, ptr %46, i64 %95\n"
    "  %99 = load i64, ptr %98, align 8\n"
    "  %100 = add nsw i64 %99, 1\n"
    "  store i64 %100, ptr %98, align 8\n"
    "  %101 = getelementptr inbounds i64, ptr %21, i64 %95\n"
    "  %102 = load i64, ptr %101, align 8\n"
    "  %103 = icmp slt i64 %100, %102\n"
    "  br i1 %103, label %119, label %104\n"
    "\n"
    "104:\n"
    "  %105 = add nsw i64 %102, -1\n"
    "  %106 = getelementptr inbounds i64, ptr %22, i64 %95\n"
    "  %107 = load i64, ptr %106, align 8\n"
    "  %108 = mul i64 %105, %0\n"
    "  %109 = mul i64 %108, %107\n"
    "  %110 = sub i64 0, %109\n"
    "  %111 = getelementptr inbounds i8, ptr %96, i64 %110\n"
    "  %112 = getelementptr inbounds i64, ptr %24, i64 %95\n"
    "  %113 = load i64, ptr %112, align 8\n"
    "  %114 = mul i64 %108, %113\n"
    "  %115 = sub i64 0, %114\n"
    "  %116 = getelementptr inbounds i8, ptr %97, i64 %115\n"
    "  store i64 0, ptr %98, align 8\n"
    "  %117 = add nsw i64 %95, -1\n"
    "  %118 = icmp sgt i64 %95, 0\n"
    "  br i1 %118, label %94, label %132\n"
    "\n"
    "119:\n"
    "  %120 = getelementptr inbounds i64, ptr %22, i64 %95\n"
    "  %121 = load i64, ptr %120, align 8\n"
    "  %122 = mul nsw i64 %121, %0\n"
    "  %123 = getelementptr inbounds i8, ptr %96, i64 %122\n"
    "  %124 = getelementptr inbounds i64, ptr %24, i64 %95\n"
    "  br label %125\n"
    "\n"
    "125:\n"
    "  %126 = phi ptr [ %124, %119 ], [ %65, %76 ]\n"
    "  %127 = phi ptr [ %97, %119 ], [ %69, %76 ]\n"
    "  %128 = phi ptr [ %123, %119 ], [ %79, %76 ]\n"
    "  %129 = load i64, ptr %126, align 8\n"
    "  %130 = mul nsw i64 %129, %0\n"
    "  %131 = getelementptr inbounds i8, ptr %127, i64 %130\n"
    "  br label %68\n"
    "\n"
    "132:\n"
    "  tail call void @llvm.stackrestore.p0(ptr %47)\n"
    "  br label %133\n"
    "\n"
    "133:\n"
    "  ret void\n"
    "}\n"
    "\n"
    "declare void @llvm.memcpy.p0.p0.i64(ptr noalias nocapture writeonly, ptr noalias nocapture readonly, i64, i1 immarg)\n"
    "\n"
    "declare ptr @llvm.stacksave.p0()\n"
    "\n"
    "declare void @llvm.stackrestore.p0(ptr)\n"
    "\n"
    "declare void @llvm.memset.p0.i64(ptr nocapture writeonly, i8, i64, i1 immarg)\n";
