/*
 * CPU feature detection, done once by dispatch.c.
 *
 * x86: the AVX2/FMA/AVX-512 CPUID bits only say the core implements the
 * instructions; the OS must also save the YMM/ZMM state on context switch.
 * So, as simdjson does, trust them only if CPUID.1:ECX.OSXSAVE is set and
 * XGETBV(0) reports the XMM|YMM (bits 1-2) and, for AVX-512, the
 * opmask|ZMM_Hi256|Hi16_ZMM (bits 5-7) states as enabled.
 * AArch64 Linux: getauxval(AT_HWCAP) & HWCAP_ASIMD.
 */
#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t)hi << 32 | lo;
}

typedef struct x86_features {
  int avx2, avx512, vbmi;
} x86_features;

static x86_features detect(void) {
  x86_features f = {0, 0, 0};
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx) return f;
  uint64_t xcr0 = xgetbv0();
  int ymm_os = (xcr0 & 0x6) == 0x6;
  int zmm_os = ymm_os && (xcr0 & 0xe0) == 0xe0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  int avx2 = (b >> 5) & 1;
  int avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1,
      avx512vl = (b >> 31) & 1, vbmi = (c >> 1) & 1;
  f.avx2 = ymm_os && avx2 && fma;
  f.avx512 = f.avx2 && zmm_os && avx512f && avx512bw && avx512vl;
  f.vbmi = f.avx512 && vbmi;
  return f;
}

int rt_cpu_has_avx2(void) { return detect().avx2; }
int rt_cpu_has_avx512(void) { return detect().avx512; }
int rt_cpu_has_avx512vbmi(void) { return detect().vbmi; }
int rt_cpu_has_neon(void) { return 0; }

#elif defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif

int rt_cpu_has_avx2(void) { return 0; }
int rt_cpu_has_avx512(void) { return 0; }
int rt_cpu_has_avx512vbmi(void) { return 0; }
int rt_cpu_has_neon(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0; }

#else
int rt_cpu_has_avx2(void) { return 0; }
int rt_cpu_has_avx512(void) { return 0; }
int rt_cpu_has_avx512vbmi(void) { return 0; }
int rt_cpu_has_neon(void) { return 0; }
#endif
