/*
 * Test access to the P-256 field functions: pushpeer's (wasm/src/p256_f256.h) and, as the reference, BearSSL's
 * own static mul_f256 / square_f256 / reduce_final_f256 from the same fetched src/ec/ec_p256_m31.c.
 */
#define br_ec_p256_m31 pushpeer_test_bearssl_p256_m31
#include "ec/ec_p256_m31.c"
#undef br_ec_p256_m31

#include "p256_f256.h"

void pp_test_ref_mul(uint32_t *d, const uint32_t *a, const uint32_t *b) { mul_f256(d, a, b); }
void pp_test_ref_square(uint32_t *d, const uint32_t *a) { square_f256(d, a); }
uint32_t pp_test_reduce_final(uint32_t *d) { return reduce_final_f256(d); }
void pp_test_mul(uint32_t *d, const uint32_t *a, const uint32_t *b) { pp_mul_f256(d, a, b); }
void pp_test_square(uint32_t *d, const uint32_t *a) { pp_square_f256(d, a); }
