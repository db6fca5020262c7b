/*
 * Multiplication and squaring in the P-256 base field, p = 2^256 - 2^224 + 2^192 + 2^96 - 1, on BearSSL's
 * ec_p256_m31 representation (nine little-endian 30-bit limbs in uint32_t, values below 2p), written for
 * pushpeer (not derived from BearSSL's code). Same contract as BearSSL's mul_f256 / square_f256: inputs below
 * 2p with every limb below 2^30, output below 2p with every limb below 2^30 (not necessarily fully reduced).
 *
 * Why: BearSSL folds the nine high 30-bit words of the product one at a time; since 2^256 does not fall on a
 * 30-bit limb boundary, every fold touches eight limbs with shifts and masks, which costs more than the 81
 * (45 for a square) limb products. Here the product is re-cut into 32-bit words, where the whole reduction
 * modulo p is one fixed signed combination of the high words (the usual "fast reduction" for the NIST prime,
 * FIPS 186-4 D.2.3), followed by two short carry passes.
 *
 * Constant time: straight-line code, no branch or memory index depends on the operands. The right shifts of
 * negative int64_t values are arithmetic with the compilers used here (GCC, Clang), as BearSSL also assumes.
 * Tested against BearSSL's functions on random and edge inputs (tests/native/p256_field_test.cpp).
 */
#ifndef PUSHPEER_P256_F256_H
#define PUSHPEER_P256_F256_H

#include <stdint.h>

/* Every loop below has a constant trip count and must be fully unrolled: the limb and word indices, bit
 * offsets included, then become constants and the arrays registers. */
#define PP_UNROLL _Pragma("GCC unroll 32")

/*
 * d <- T mod p (below 2p, nine 30-bit limbs), where T = sum t[k] * 2^(30k) is a product of two values below
 * 2p given as 17 column sums, each at most 9 * (2^30 - 1)^2.
 */
/* Inlined into both callers: the 17 columns then stay in registers instead of a stack array. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void
pp_f256_reduce(uint32_t *d, const uint64_t *t)
{
	uint64_t acc, buf;
	int64_t a[17], w[8], c, e, neg, top;
	uint32_t r[8];
	int k, n, q;

	/*
	 * Carry-propagate the columns to 30-bit words and re-cut the bit string into 32-bit words a[0..16].
	 * acc stays below 2^64: a column is below 9 * 2^60 and the carry below 2^34 (BearSSL's mul9 makes the
	 * same argument). T < (2p)^2 < 2^514, so a[16] < 4. n, q are compile-time constants once unrolled.
	 */
	acc = 0;
	buf = 0;
	n = 0;
	q = 0;
	PP_UNROLL
	for (k = 0; k < 18; k ++) {
		uint64_t limb;

		if (k < 17) {
			acc += t[k];
		}
		limb = acc & 0x3FFFFFFF;
		acc >>= 30;
		buf |= limb << n;
		n += 30;
		if (n >= 32) {
			a[q ++] = (int64_t)(buf & 0xFFFFFFFF);
			buf >>= 32;
			n -= 32;
		}
	}
	a[16] = (int64_t)buf;

	/* a[16] * 2^512 = a[16] * 2^256 * 2^256 = a[16] * (2^480 - 2^448 - 2^352 + 2^256) mod p. */
	a[15] += a[16];
	a[14] -= a[16];
	a[11] -= a[16];
	a[8] += a[16];

	/*
	 * 2^(32i) mod p for i = 8..15 as signed combinations of 2^0 .. 2^224 (FIPS 186-4 D.2.3: T + 2 S1 + 2 S2
	 * + S3 + S4 - D1 - D2 - D3 - D4, collected per output word). Every a[i] is in (-8, 2^32 + 4), and no word
	 * sums more than 9 of them (with multiplicity), so |w[i]| < 2^36.
	 */
	w[0] = a[0] + a[8] + a[9] - a[11] - a[12] - a[13] - a[14];
	w[1] = a[1] + a[9] + a[10] - a[12] - a[13] - a[14] - a[15];
	w[2] = a[2] + a[10] + a[11] - a[13] - a[14] - a[15];
	w[3] = a[3] + 2 * (a[11] + a[12]) + a[13] - a[15] - a[8] - a[9];
	w[4] = a[4] + 2 * (a[12] + a[13]) + a[14] - a[9] - a[10];
	w[5] = a[5] + 2 * (a[13] + a[14]) + a[15] - a[10] - a[11];
	w[6] = a[6] + 3 * a[14] + 2 * a[15] + a[13] - a[8] - a[9];
	w[7] = a[7] + 3 * a[15] + a[8] - a[10] - a[11] - a[12] - a[13];

	/* Signed carry pass: T = R + c * 2^256 (mod p) with R = sum r[i] 2^(32i) in [0, 2^256), |c| < 2^5. */
	c = 0;
	PP_UNROLL
	for (k = 0; k < 8; k ++) {
		c += w[k];
		r[k] = (uint32_t)c;
		c >>= 32;
	}

	/*
	 * With delta = 2^256 - p = 2^224 - 2^192 - 2^96 + 1 (< 2^224):
	 *   c >= 0: T = R + c * delta           in [0, 2^256 + 2^229)      which is inside [0, 2p);
	 *   c < 0:  T = R + c * delta + p       in [p - 2^229, 2^256 + p - delta] = [.., 2p - 1].
	 * Both are R + e * delta + neg * 2^256 with neg = (c < 0), e = c - neg, so the result is in [0, 2p) and
	 * fits in 257 bits: the last carry plus neg is the bit 256, 0 or 1.
	 */
	neg = (int64_t)((uint64_t)c >> 63);
	e = c - neg;
	w[0] = (int64_t)r[0] + e;
	w[1] = r[1];
	w[2] = r[2];
	w[3] = (int64_t)r[3] - e;
	w[4] = r[4];
	w[5] = r[5];
	w[6] = (int64_t)r[6] - e;
	w[7] = (int64_t)r[7] + e;
	c = 0;
	PP_UNROLL
	for (k = 0; k < 8; k ++) {
		c += w[k];
		r[k] = (uint32_t)c;
		c >>= 32;
	}
	top = c + neg;

	/* Back to nine 30-bit limbs (the last one holds bits 240..256). */
	buf = 0;
	n = 0;
	q = 0;
	PP_UNROLL
	for (k = 0; k < 8; k ++) {
		buf |= (uint64_t)r[k] << n;
		n += 32;
		while (n >= 30) {
			d[q ++] = (uint32_t)buf & 0x3FFFFFFF;
			buf >>= 30;
			n -= 30;
		}
	}
	d[8] = (uint32_t)buf | ((uint32_t)top << 16);
}

/* d <- a * b mod p. d may alias a or b. */
static void
pp_mul_f256(uint32_t *d, const uint32_t *a, const uint32_t *b)
{
	uint64_t t[17];
	int i, j;

	PP_UNROLL
	for (i = 0; i < 17; i ++) {
		t[i] = 0;
	}
	PP_UNROLL
	for (i = 0; i < 9; i ++) {
		PP_UNROLL
		for (j = 0; j < 9; j ++) {
			t[i + j] += (uint64_t)a[i] * b[j];
		}
	}
	pp_f256_reduce(d, t);
}

/* d <- a^2 mod p. d may alias a. Cross products once, against the doubled limb (2 a[j] < 2^31). */
static void
pp_square_f256(uint32_t *d, const uint32_t *a)
{
	uint64_t t[17];
	uint32_t a2[9];
	int i, j;

	PP_UNROLL
	for (i = 0; i < 9; i ++) {
		a2[i] = a[i] << 1;
	}
	PP_UNROLL
	for (i = 0; i < 17; i ++) {
		t[i] = 0;
	}
	PP_UNROLL
	for (i = 0; i < 9; i ++) {
		t[2 * i] += (uint64_t)a[i] * a[i];
		PP_UNROLL
		for (j = i + 1; j < 9; j ++) {
			t[i + j] += (uint64_t)a[i] * a2[j];
		}
	}
	pp_f256_reduce(d, t);
}

#undef PP_UNROLL

#endif
