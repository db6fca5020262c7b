/*
 * P-256 scalar multiplication with wider windows, on BearSSL's br_ec_p256_m31 representation, with our own
 * field multiplication (p256_f256.h) and point formulas.
 *
 * Why: BearSSL 0.6 multiplies an arbitrary point with a 2-bit window (128 full additions) and the generator
 * with a 4-bit window plus 256 doublings. A Web Push message costs two such multiplications (ephemeral key,
 * ECDH), which dominate its time in Wasm. Here:
 *   - variable base: signed 5-bit windows over a table of 1P..16P (52 additions instead of 128);
 *   - fixed base: a comb of 64 tables, table i holding d*16^i*G (d = 1..15) in affine coordinates, built once
 *     on first use (batch inversion keeps that to a few ms), so k*G is 64 mixed additions and no doubling.
 * Both are constant time: every table entry is read for each lookup and selected with masks, and the same
 * sequence of field operations runs for every scalar. Measured in bench/RESULTS.md.
 *
 * BearSSL's point and field functions are static, so this file compiles BearSSL's own (fetched, hash-verified)
 * src/ec/ec_p256_m31.c into this translation unit. Its public symbol is renamed so that it does not clash
 * with the same object in the BearSSL library, which the tests use as the reference implementation.
 */
#define br_ec_p256_m31 pushpeer_bearssl_p256_m31_inlined
#include "ec/ec_p256_m31.c"
#undef br_ec_p256_m31

#include "p256_window.h"
#include "p256_f256.h"

/*
 * Point arithmetic on pushpeer's field multiplication and squaring (p256_f256.h), which BearSSL's point
 * functions cannot be pointed at (they call its static mul_f256 / square_f256 by name). Same Jacobian
 * representation, same contracts as BearSSL's p256_double / p256_add / p256_add_mixed / p256_to_affine (the
 * textbook formulas for a = -3); every field value stays below 2p, as add_f256 / sub_f256 / the
 * multiplications require. BearSSL's p256_decode (one validation per key) keeps BearSSL's field code.
 */

/* Q <- 2Q; the point at infinity (z = 0) stays there (z' = 2yz = 0). 4 multiplications, 4 squarings. */
static void
pp_double(p256_jacobian *Q)
{
	uint32_t zz[9], m[9], s[9], yy[9], t[9];

	/* m = 3 (x - z^2)(x + z^2) */
	pp_square_f256(zz, Q->z);
	sub_f256(t, Q->x, zz);
	add_f256(zz, Q->x, zz);
	pp_mul_f256(m, t, zz);
	add_f256(t, m, m);
	add_f256(m, m, t);

	/* yy = 2 y^2, s = 4 x y^2 = 2 x yy */
	pp_square_f256(yy, Q->y);
	add_f256(yy, yy, yy);
	pp_mul_f256(s, Q->x, yy);
	add_f256(s, s, s);

	/* x' = m^2 - 2s */
	pp_square_f256(Q->x, m);
	sub_f256(Q->x, Q->x, s);
	sub_f256(Q->x, Q->x, s);

	/* z' = 2 y z (before y changes) */
	pp_mul_f256(t, Q->y, Q->z);
	add_f256(Q->z, t, t);

	/* y' = m (s - x') - 8 y^4 = m (s - x') - 2 yy^2 */
	sub_f256(s, s, Q->x);
	pp_mul_f256(Q->y, m, s);
	pp_square_f256(t, yy);
	add_f256(t, t, t);
	sub_f256(Q->y, Q->y, t);
}

/*
 * The end of an addition, shared by the Jacobian and the mixed one: from u1 = x1 z2^2, u2 = x2 z1^2,
 * s1 = y1 z2^3, s2 = y2 z1^3 and zz = z1 z2, sets P1 <- P1 + P2 and returns 1 when s2 != s1 (mod p), else 0.
 * h = u2 - u1, r = s2 - s1; x3 = r^2 - h^3 - 2 u1 h^2, y3 = r (u1 h^2 - x3) - s1 h^3, z3 = h zz.
 * Wrong (the point at infinity) when P1 = P2 or when exactly one of them is the point at infinity: see
 * BearSSL's p256_add for how the callers deal with that.
 */
static uint32_t
pp_add_finish(p256_jacobian *P1, const uint32_t *u1, const uint32_t *u2, const uint32_t *s1, uint32_t *s2,
	const uint32_t *zz)
{
	uint32_t h[9], hh[9], hhh[9], v[9], t[9], nz;
	int i;

	sub_f256(h, u2, u1);
	sub_f256(s2, s2, s1);          /* r */
	reduce_final_f256(s2);
	nz = 0;
	for (i = 0; i < 9; i ++) {
		nz |= s2[i];
	}
	nz = (nz | -nz) >> 31;

	pp_square_f256(hh, h);
	pp_mul_f256(v, u1, hh);        /* u1 h^2 */
	pp_mul_f256(hhh, hh, h);

	pp_square_f256(P1->x, s2);
	sub_f256(P1->x, P1->x, hhh);
	sub_f256(P1->x, P1->x, v);
	sub_f256(P1->x, P1->x, v);

	sub_f256(v, v, P1->x);
	pp_mul_f256(P1->y, s2, v);
	pp_mul_f256(t, hhh, s1);
	sub_f256(P1->y, P1->y, t);

	pp_mul_f256(P1->z, zz, h);
	return nz;
}

/* P1 <- P1 + P2, both Jacobian. 12 multiplications, 4 squarings. */
static uint32_t
pp_add(p256_jacobian *P1, const p256_jacobian *P2)
{
	uint32_t u1[9], u2[9], s1[9], s2[9], zz[9], t[9];

	pp_square_f256(t, P2->z);
	pp_mul_f256(u1, P1->x, t);
	pp_mul_f256(t, t, P2->z);
	pp_mul_f256(s1, P1->y, t);

	pp_square_f256(t, P1->z);
	pp_mul_f256(u2, P2->x, t);
	pp_mul_f256(t, t, P1->z);
	pp_mul_f256(s2, P2->y, t);

	pp_mul_f256(zz, P1->z, P2->z);
	return pp_add_finish(P1, u1, u2, s1, s2, zz);
}

/* P1 <- P1 + P2, P2 affine (z = 1, not the point at infinity). 8 multiplications, 3 squarings. */
static uint32_t
pp_add_mixed(p256_jacobian *P1, const p256_jacobian *P2)
{
	uint32_t u1[9], u2[9], s1[9], s2[9], zz[9], t[9];

	memcpy(u1, P1->x, sizeof u1);
	memcpy(s1, P1->y, sizeof s1);
	memcpy(zz, P1->z, sizeof zz);
	pp_square_f256(t, P1->z);
	pp_mul_f256(u2, P2->x, t);
	pp_mul_f256(t, t, P1->z);
	pp_mul_f256(s2, P2->y, t);
	return pp_add_finish(P1, u1, u2, s1, s2, zz);
}

/* d <- a^(2^n) */
static void
pp_square_n(uint32_t *d, const uint32_t *a, int n)
{
	memcpy(d, a, 9 * sizeof *d);
	while (n -- > 0) {
		pp_square_f256(d, d);
	}
}

/*
 * d <- z^(p-2) = 1/z (0 for z = 0). p - 2, from the top: 32 ones, 31 zeros, a one, 96 zeros, 94 ones, a zero,
 * a one. With x_k = z^(2^k - 1): 255 squarings and 12 multiplications (BearSSL's loop: 285 and 37).
 */
static void
pp_invert_f256(uint32_t *d, const uint32_t *z)
{
	uint32_t x2[9], x3[9], x6[9], x12[9], x15[9], x30[9], x32[9], t[9];

	pp_square_f256(t, z);
	pp_mul_f256(x2, t, z);
	pp_square_f256(t, x2);
	pp_mul_f256(x3, t, z);
	pp_square_n(t, x3, 3);
	pp_mul_f256(x6, t, x3);
	pp_square_n(t, x6, 6);
	pp_mul_f256(x12, t, x6);
	pp_square_n(t, x12, 3);
	pp_mul_f256(x15, t, x3);
	pp_square_n(t, x15, 15);
	pp_mul_f256(x30, t, x15);
	pp_square_n(t, x30, 2);
	pp_mul_f256(x32, t, x2);

	pp_square_n(t, x32, 32);         /* 32 ones, 32 zeros */
	pp_mul_f256(t, t, z);            /* 32 ones, 31 zeros, a one */
	pp_square_n(t, t, 128);
	pp_mul_f256(t, t, x32);          /* ... 96 zeros, 32 ones */
	pp_square_n(t, t, 32);
	pp_mul_f256(t, t, x32);          /* 64 ones */
	pp_square_n(t, t, 30);
	pp_mul_f256(t, t, x30);          /* 94 ones */
	pp_square_n(t, t, 2);
	pp_mul_f256(d, t, z);            /* a zero, a one */
}

/* Affine coordinates, fully reduced, z = 1; all three coordinates 0 for the point at infinity. */
static void
pp_to_affine(p256_jacobian *P)
{
	uint32_t zi[9], zi2[9], t[9];

	pp_invert_f256(zi, P->z);
	pp_square_f256(zi2, zi);
	pp_mul_f256(P->x, P->x, zi2);
	pp_mul_f256(t, zi2, zi);
	pp_mul_f256(P->y, P->y, t);
	pp_mul_f256(P->z, P->z, zi);
	reduce_final_f256(P->x);
	reduce_final_f256(P->y);
	reduce_final_f256(P->z);
}

/* Multipliers are at most 32 bytes (the group order's size); 64 nibbles. */
#define PP_NIBBLES 64

/*
 * Constant-time select of table[idx - 1] (idx in 1..n) into *T, reading every entry; all-zero for idx 0. Only
 * the first `words` 32-bit words of each entry are read (18: x and y of an affine entry), the rest of *T is 0.
 */
static void
pp_lookup(p256_jacobian *T, const p256_jacobian *table, uint32_t n, uint32_t idx, size_t words)
{
	uint32_t k;
	size_t u;
	uint32_t *dst = (uint32_t *)T;

	memset(T, 0, sizeof *T);
	for (k = 0; k < n; k ++) {
		uint32_t m = -EQ(idx, k + 1);
		const uint32_t *src = (const uint32_t *)&table[k];
		for (u = 0; u < words; u ++) {
			dst[u] |= m & src[u];
		}
	}
}

/* Constant time: *dst <- *src when ctl = 1, unchanged when ctl = 0 (BearSSL's CCOPY, a word at a time). */
static void
pp_ccopy(uint32_t ctl, void *dst, const void *src, size_t len)
{
	uint32_t m = -ctl;
	uint32_t *d = dst;
	const uint32_t *s = src;
	size_t u;

	for (u = 0; u < len / sizeof *d; u ++) {
		d[u] ^= m & (d[u] ^ s[u]);
	}
}

/* Bit i (0 = least significant) of a 32-byte big-endian scalar; 0 outside [0, 255]. */
static uint32_t
pp_scalar_bit(const unsigned char *x32, int i)
{
	if (i < 0 || i > 255) {
		return 0;
	}
	return (x32[31 - (i >> 3)] >> (i & 7)) & 1;
}

/*
 * Signed-digit (Booth) recoding of a 6-bit window: in = bits 5w-1 .. 5w+4 of the scalar. Yields |d| <= 16 and
 * its sign, so that the scalar is the sum of d_w * 32^w. Branch-free.
 */
static void
pp_booth5(uint32_t in, uint32_t *magnitude, uint32_t *negative)
{
	uint32_t s = ~((in >> 5) - 1);   /* all ones when the top bit is set */
	uint32_t d = (1u << 6) - in - 1;

	d = (d & s) | (in & ~s);
	d = (d >> 1) + (d & 1);
	*magnitude = d;
	*negative = s & 1;
}

/*
 * P <- x*P, x big-endian (at most 32 bytes), 0 < x < n, P not the point at infinity. Signed 5-bit windows:
 * 256 doublings and 52 additions. No addition in the loop is exceptional: the accumulator is 32*a*P with
 * a >= 1 once it is not the point at infinity, the addend d*P with |d| <= 16, and every prefix 32*a + d is a
 * rounded prefix of x, in (0, n).
 */
static void
pp_mul_booth5(p256_jacobian *P, const unsigned char *x, size_t xlen)
{
	static const uint32_t zero[9] = { 0 };
	p256_jacobian W[16], Q, T, U;
	unsigned char k32[32];
	uint32_t qz, ny[9];
	int w, i;

	memset(k32, 0, sizeof k32);
	memcpy(k32 + 32 - xlen, x, xlen);

	/* W[i] = (i + 1) * P: even multiples by doubling (cheaper than an addition). */
	W[0] = *P;
	for (i = 2; i <= 16; i ++) {
		if ((i & 1) == 0) {
			W[i - 1] = W[i / 2 - 1];
			pp_double(&W[i - 1]);
		} else {
			W[i - 1] = W[i - 2];
			pp_add(&W[i - 1], P);
		}
	}

	memset(&Q, 0, sizeof Q);
	qz = 1;
	for (w = 51; w >= 0; w --) {
		uint32_t in = 0, d, neg, dnz;

		for (i = 0; i < 6; i ++) {
			in |= pp_scalar_bit(k32, 5 * w - 1 + i) << i;
		}
		pp_booth5(in, &d, &neg);
		for (i = 0; i < 5; i ++) {
			pp_double(&Q);
		}
		pp_lookup(&T, W, 16, d, 27);
		sub_f256(ny, zero, T.y);
		pp_ccopy(neg, T.y, ny, sizeof ny);
		dnz = NEQ(d, 0);
		U = Q;
		pp_add(&U, &T);
		pp_ccopy(dnz & qz, &Q, &T, sizeof Q);
		pp_ccopy(dnz & ~qz, &Q, &U, sizeof Q);
		qz &= ~dnz;
	}
	*P = Q;
	memset(k32, 0, sizeof k32);  /* a copy of the secret scalar; the caller also burns the stack */
}

/* Comb tables: pp_comb[i][d - 1] = d * 16^i * G, affine (z = 1), coordinates fully reduced. */
static p256_jacobian pp_comb[PP_NIBBLES][15];
static int pp_comb_ready;

static void
pp_comb_init(void)
{
	/* Prefix products for one batch inversion over all 960 points (Montgomery's trick). */
	static uint32_t prefix[PP_NIBBLES * 15][9];
	p256_jacobian B;
	uint32_t inv[9], zi[9], zi2[9], t[9];
	int i, d, n;

	p256_decode(&B, P256_G, sizeof P256_G);
	for (i = 0; i < PP_NIBBLES; i ++) {
		pp_comb[i][0] = B;
		pp_comb[i][1] = B;
		pp_double(&pp_comb[i][1]);
		for (d = 2; d < 15; d ++) {
			pp_comb[i][d] = pp_comb[i][d - 1];
			pp_add(&pp_comb[i][d], &B);
		}
		pp_double(&B);
		pp_double(&B);
		pp_double(&B);
		pp_double(&B);
	}

	n = PP_NIBBLES * 15;
	memcpy(prefix[0], pp_comb[0][0].z, sizeof prefix[0]);
	for (i = 1; i < n; i ++) {
		pp_mul_f256(prefix[i], prefix[i - 1], pp_comb[i / 15][i % 15].z);
	}
	pp_invert_f256(inv, prefix[n - 1]);
	for (i = n - 1; i >= 0; i --) {
		p256_jacobian *P = &pp_comb[i / 15][i % 15];
		if (i > 0) {
			pp_mul_f256(zi, inv, prefix[i - 1]); /* 1/z_i */
			pp_mul_f256(inv, inv, P->z);         /* 1/(z_0 ... z_{i-1}) */
		} else {
			memcpy(zi, inv, sizeof zi);
		}
		pp_square_f256(zi2, zi);
		pp_mul_f256(P->x, P->x, zi2);
		pp_mul_f256(t, zi2, zi);
		pp_mul_f256(P->y, P->y, t);
		reduce_final_f256(P->x);
		reduce_final_f256(P->y);
		memset(P->z, 0, sizeof P->z);
		P->z[0] = 1;
	}
	pp_comb_ready = 1;
}

/*
 * P <- x*G, x big-endian, 0 < x < n. No exceptional addition: the accumulator is a*G with a < 16^i and the
 * addend d*16^i*G with 16^i <= d*16^i, and 0 < a + d*16^i <= x < n.
 */
static void
pp_mulgen_comb(p256_jacobian *P, const unsigned char *x, size_t xlen)
{
	p256_jacobian Q, T, U;
	uint32_t qz;
	size_t i;

	if (!pp_comb_ready) {
		pp_comb_init();
	}
	memset(&Q, 0, sizeof Q);
	qz = 1;
	for (i = 0; i < 2 * xlen && i < PP_NIBBLES; i ++) {
		unsigned byte = x[xlen - 1 - (i >> 1)];
		uint32_t bits = (i & 1) ? (byte >> 4) : (byte & 0x0F);
		uint32_t bnz = NEQ(bits, 0);

		pp_lookup(&T, pp_comb[i], 15, bits, 18);
		T.z[0] = 1;
		U = Q;
		pp_add_mixed(&U, &T);
		pp_ccopy(bnz & qz, &Q, &T, sizeof Q);
		pp_ccopy(bnz & ~qz, &Q, &U, sizeof Q);
		qz &= ~bnz;
	}
	*P = Q;
}

static uint32_t
pp_api_mul(unsigned char *G, size_t Glen, const unsigned char *x, size_t xlen, int curve)
{
	p256_jacobian P;
	uint32_t r;

	(void)curve;
	if (xlen > 32) {
		return 0;
	}
	r = p256_decode(&P, G, Glen);
	pp_mul_booth5(&P, x, xlen);
	if (Glen >= 65) {
		pp_to_affine(&P);
		p256_encode(G, &P);
	}
	return r;
}

static size_t
pp_api_mulgen(unsigned char *R, const unsigned char *x, size_t xlen, int curve)
{
	p256_jacobian P;

	(void)curve;
	if (xlen > 32) {
		return 0;
	}
	pp_mulgen_comb(&P, x, xlen);
	pp_to_affine(&P);
	p256_encode(R, &P);
	return 65;
}

/* A <- x*A + y*B (B = G when NULL); 0 if a point is invalid or the sum is the point at infinity. */
static uint32_t
pp_api_muladd(unsigned char *A, const unsigned char *B, size_t len,
	const unsigned char *x, size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
	p256_jacobian P, Q;
	uint32_t r, inf_or_equal, was_inverse, zbits;
	int i;

	(void)curve;
	if (xlen > 32 || ylen > 32) {
		return 0;
	}
	r = p256_decode(&P, A, len);
	pp_mul_booth5(&P, x, xlen);
	if (B == NULL) {
		pp_mulgen_comb(&Q, y, ylen);
	} else {
		r &= p256_decode(&Q, B, len);
		pp_mul_booth5(&Q, y, ylen);
	}
	/* p256_add cannot double: if the sum comes out as infinity, either P = -Q (an error) or P = Q. */
	was_inverse = pp_add(&P, &Q);
	reduce_final_f256(P.z);
	zbits = 0;
	for (i = 0; i < 9; i ++) {
		zbits |= P.z[i];
	}
	inf_or_equal = EQ(zbits, 0);
	pp_double(&Q);
	pp_ccopy(inf_or_equal & ~was_inverse, &P, &Q, sizeof Q);
	pp_to_affine(&P);
	p256_encode(A, &P);
	return r & ~(inf_or_equal & was_inverse);
}

uint32_t
pushpeer_p256_point_is_valid(const unsigned char *point, size_t len)
{
	p256_jacobian P;

	/* Uncompressed encoding, coordinates below p, y^2 = x^3 - 3x + b: a few field operations. */
	return p256_decode(&P, point, len);
}

uint32_t
pushpeer_p256_decompress(unsigned char *out, const unsigned char *in)
{
	/* SEC 1 §2.3.4: y = sqrt(x^3 - 3x + b); p = 3 mod 4, so sqrt(a) = a^((p+1)/4) when a is a square.
	 * (p+1)/4 = 2^254 - 2^222 + 2^190 + 2^94: bits 253..222, 190 and 94 set. Public data: not constant time. */
	static const uint32_t zero[9] = { 0 };
	uint32_t x[9], rhs[9], t[9], y[9], y2[9];
	int i, bit;

	if (in[0] != 0x02 && in[0] != 0x03) {
		return 0;
	}
	x[8] = be8_to_le30(x, in + 1, 32);
	if (reduce_final_f256(x)) {
		return 0; /* x >= p */
	}
	pp_square_f256(t, x);
	pp_mul_f256(rhs, t, x);
	sub_f256(rhs, rhs, x);
	sub_f256(rhs, rhs, x);
	sub_f256(rhs, rhs, x);
	add_f256(rhs, rhs, P256_B);
	memcpy(y, rhs, sizeof y); /* bit 253 */
	for (bit = 252; bit >= 0; bit --) {
		pp_square_f256(y, y);
		if (bit >= 222 || bit == 190 || bit == 94) {
			pp_mul_f256(y, y, rhs);
		}
	}
	pp_square_f256(y2, y);
	reduce_final_f256(y2);
	reduce_final_f256(rhs);
	for (i = 0; i < 9; i ++) {
		if (y2[i] != rhs[i]) {
			return 0; /* x is not on the curve */
		}
	}
	reduce_final_f256(y);
	if ((y[0] & 1) != (uint32_t)(in[0] & 1)) {
		sub_f256(y, zero, y);
		reduce_final_f256(y);
	}
	out[0] = 0x04;
	le30_to_be8(out + 1, 32, x);
	le30_to_be8(out + 33, 32, y);
	return pushpeer_p256_point_is_valid(out, 65);
}

const br_ec_impl pushpeer_p256_window = {
	(uint32_t)0x00800000, /* secp256r1 only */
	&api_generator,
	&api_order,
	&api_xoff,
	&pp_api_mul,
	&pp_api_mulgen,
	&pp_api_muladd
};
