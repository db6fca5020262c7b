/* Internal: the P-256 implementation the core uses (see p256_window.c). */
#ifndef PUSHPEER_P256_WINDOW_H
#define PUSHPEER_P256_WINDOW_H
#include <bearssl.h>
#ifdef __cplusplus
extern "C" {
#endif
extern const br_ec_impl pushpeer_p256_window;
/* 1 if point is a valid uncompressed P-256 point (on the curve, not infinity), else 0. */
uint32_t pushpeer_p256_point_is_valid(const unsigned char *point, size_t len);
/* 33-byte compressed point -> 65-byte uncompressed; 1 if valid, else 0. */
uint32_t pushpeer_p256_decompress(unsigned char *out, const unsigned char *in);
#ifdef __cplusplus
}
#endif
#endif
