/*
 * P-256 scalar multiplication with wider windows, on BearSSL's br_ec_p256_m31 field and point arithmetic.
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

/* Multipliers are at most 32 bytes (the group order's size); 64 nibbles. */
#define PP_NIBBLES 64

/* Constant-time select of table[idx - 1] (idx in 1..n) into *T, reading every entry; all-zero for idx 0. */
static void
pp_lookup(p256_jacobian *T, const p256_jacobian *table, uint32_t n, uint32_t idx)
{
	uint32_t k;
	size_t u;
	uint32_t *dst = (uint32_t *)T;

	memset(T, 0, sizeof *T);
	for (k = 0; k < n; k ++) {
		uint32_t m = -EQ(idx, k + 1);
		const uint32_t *src = (const uint32_t *)&table[k];
		for (u = 0; u < 27; u ++) {
			dst[u] |= m & src[u];
		}
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
			p256_double(&W[i - 1]);
		} else {
			W[i - 1] = W[i - 2];
			p256_add(&W[i - 1], P);
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
			p256_double(&Q);
		}
		pp_lookup(&T, W, 16, d);
		sub_f256(ny, zero, T.y);
		CCOPY(neg, T.y, ny, sizeof ny);
		dnz = NEQ(d, 0);
		U = Q;
		p256_add(&U, &T);
		CCOPY(dnz & qz, &Q, &T, sizeof Q);
		CCOPY(dnz & ~qz, &Q, &U, sizeof Q);
		qz &= ~dnz;
	}
	*P = Q;
	memset(k32, 0, sizeof k32);  /* a copy of the secret scalar; the caller also burns the stack */
}

/* Comb tables: pp_comb[i][d - 1] = d * 16^i * G, affine (z = 1), coordinates fully reduced. */
static p256_jacobian pp_comb[PP_NIBBLES][15];
static int pp_comb_ready;

/* 1/z for z != 0: p256_to_affine on (x = z, y = z, z) turns x into z/z^2 = 1/z. */
static void
pp_invert(uint32_t *d, const uint32_t *z)
{
	p256_jacobian t;

	memcpy(t.x, z, sizeof t.x);
	memcpy(t.y, z, sizeof t.y);
	memcpy(t.z, z, sizeof t.z);
	p256_to_affine(&t);
	memcpy(d, t.x, sizeof t.x);
}

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
		p256_double(&pp_comb[i][1]);
		for (d = 2; d < 15; d ++) {
			pp_comb[i][d] = pp_comb[i][d - 1];
			p256_add(&pp_comb[i][d], &B);
		}
		p256_double(&B);
		p256_double(&B);
		p256_double(&B);
		p256_double(&B);
	}

	n = PP_NIBBLES * 15;
	memcpy(prefix[0], pp_comb[0][0].z, sizeof prefix[0]);
	for (i = 1; i < n; i ++) {
		mul_f256(prefix[i], prefix[i - 1], pp_comb[i / 15][i % 15].z);
	}
	pp_invert(inv, prefix[n - 1]);
	for (i = n - 1; i >= 0; i --) {
		p256_jacobian *P = &pp_comb[i / 15][i % 15];
		if (i > 0) {
			mul_f256(zi, inv, prefix[i - 1]); /* 1/z_i */
			mul_f256(inv, inv, P->z);         /* 1/(z_0 ... z_{i-1}) */
		} else {
			memcpy(zi, inv, sizeof zi);
		}
		square_f256(zi2, zi);
		mul_f256(P->x, P->x, zi2);
		mul_f256(t, zi2, zi);
		mul_f256(P->y, P->y, t);
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

		pp_lookup(&T, pp_comb[i], 15, bits);
		T.z[0] = 1;
		U = Q;
		p256_add_mixed(&U, &T);
		CCOPY(bnz & qz, &Q, &T, sizeof Q);
		CCOPY(bnz & ~qz, &Q, &U, sizeof Q);
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
		p256_to_affine(&P);
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
	p256_to_affine(&P);
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
	was_inverse = p256_add(&P, &Q);
	reduce_final_f256(P.z);
	zbits = 0;
	for (i = 0; i < 9; i ++) {
		zbits |= P.z[i];
	}
	inf_or_equal = EQ(zbits, 0);
	p256_double(&Q);
	CCOPY(inf_or_equal & ~was_inverse, &P, &Q, sizeof Q);
	p256_to_affine(&P);
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
	square_f256(t, x);
	mul_f256(rhs, t, x);
	sub_f256(rhs, rhs, x);
	sub_f256(rhs, rhs, x);
	sub_f256(rhs, rhs, x);
	add_f256(rhs, rhs, P256_B);
	memcpy(y, rhs, sizeof y); /* bit 253 */
	for (bit = 252; bit >= 0; bit --) {
		square_f256(y, y);
		if (bit >= 222 || bit == 190 || bit == 94) {
			mul_f256(y, y, rhs);
		}
	}
	square_f256(y2, y);
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
