/*
 * The small public helpers: status strings, index formats and sizes, ISA
 * names and queries, CLUSTERRT_ISA forcing.
 */
#include "test-util.h"

int main(void) {
  for (int s = 0; s <= CLUSTERRT_ERR_ISA; s++) {
    const char *m = clusterrt_status_string((clusterrt_status)s);
    CHECK(m && *m);
  }
  CHECK(clusterrt_narrowest_format(1) == CLUSTERRT_IDX_U1);
  CHECK(clusterrt_narrowest_format(2) == CLUSTERRT_IDX_U1);
  CHECK(clusterrt_narrowest_format(3) == CLUSTERRT_IDX_U2);
  CHECK(clusterrt_narrowest_format(4) == CLUSTERRT_IDX_U2);
  CHECK(clusterrt_narrowest_format(5) == CLUSTERRT_IDX_U4);
  CHECK(clusterrt_narrowest_format(16) == CLUSTERRT_IDX_U4);
  CHECK(clusterrt_narrowest_format(17) == CLUSTERRT_IDX_U8);
  CHECK(clusterrt_narrowest_format(256) == CLUSTERRT_IDX_U8);
  CHECK(clusterrt_narrowest_format(257) == CLUSTERRT_IDX_U16);
  CHECK(clusterrt_narrowest_format(65536) == CLUSTERRT_IDX_U16);
  for (size_t k = 1; k <= 65536; k++) {
    unsigned bits = clusterrt_format_bits(clusterrt_dense_format(k));
    CHECK_MSG(((size_t)1 << bits) >= k && (bits == 1 || ((size_t)1 << (bits - 1)) < k),
              "dense_format(%zu) = %u bits", k, bits);
  }
  CHECK(clusterrt_dense_format(8) == CLUSTERRT_IDX_U3);
  CHECK(clusterrt_dense_format(64) == CLUSTERRT_IDX_U6);
  for (unsigned i = 1; i <= 16; i++) {
    clusterrt_index_format f = (clusterrt_index_format)i;
    unsigned bits = clusterrt_format_bits(f);
    CHECK(clusterrt_format_aligned(f) == (i == 1 || i == 2 || i == 4 || i == 8 || i == 16));
    CHECK(bits == (unsigned)f);
    for (size_t n = 0; n < 100; n++)
      CHECK(clusterrt_index_bytes(f, n) == (n * bits + 7) / 8);
    CHECK(clusterrt_index_bytes(f, SIZE_MAX / 2) ==
          (SIZE_MAX / 2) / 8 * bits + ((SIZE_MAX / 2) % 8 * bits + 7) / 8);
    CHECK(clusterrt_format_name(f) != NULL);
  }
  CHECK(clusterrt_format_bits((clusterrt_index_format)0) == 0);
  CHECK(clusterrt_format_bits((clusterrt_index_format)17) == 0);
  CHECK(!clusterrt_format_aligned((clusterrt_index_format)0));
  CHECK(clusterrt_format_name((clusterrt_index_format)0) == NULL);
  CHECK(clusterrt_format_name((clusterrt_index_format)17) == NULL);
  CHECK(strcmp(clusterrt_format_name(CLUSTERRT_IDX_U3), "u3") == 0);
  CHECK(strcmp(clusterrt_format_name(CLUSTERRT_IDX_U16), "u16") == 0);

  CHECK(clusterrt_isa_available(CLUSTERRT_ISA_GENERIC));
  CHECK(clusterrt_isa_available(clusterrt_get_isa()));
  const char *env = getenv("CLUSTERRT_ISA");
  if (env) { /* the forced ISA is in use when available */
    for (int i = 0; i <= CLUSTERRT_ISA_NEON; i++)
      if (strcmp(env, clusterrt_isa_name((clusterrt_isa)i)) == 0 &&
          clusterrt_isa_available((clusterrt_isa)i))
        CHECK(clusterrt_get_isa() == (clusterrt_isa)i);
  }
  printf("ISA in use: %s; available:", clusterrt_isa_name(clusterrt_get_isa()));
  for (int i = 0; i <= CLUSTERRT_ISA_NEON; i++) {
    clusterrt_isa isa = (clusterrt_isa)i;
    CHECK(clusterrt_isa_name(isa) != NULL);
    if (clusterrt_isa_available(isa)) {
      printf(" %s", clusterrt_isa_name(isa));
      CHECK(clusterrt_set_isa(isa) == CLUSTERRT_OK);
      CHECK(clusterrt_get_isa() == isa);
    } else {
      CHECK(clusterrt_set_isa(isa) == CLUSTERRT_ERR_ISA);
    }
  }
  printf("\n");
  CHECK(clusterrt_set_isa((clusterrt_isa)9) == CLUSTERRT_ERR_ISA);
  CHECK(clusterrt_isa_name((clusterrt_isa)9) == NULL);
  return t_finish("api", clusterrt_get_isa());
}
