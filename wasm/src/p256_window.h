/* Internal: the P-256 implementation the core uses (see p256_window.c). */
#ifndef PUSHPEER_P256_WINDOW_H
#define PUSHPEER_P256_WINDOW_H
#include <bearssl.h>
#ifdef __cplusplus
extern "C" {
#endif
extern const br_ec_impl pushpeer_p256_window;
#ifdef __cplusplus
}
#endif
#endif
