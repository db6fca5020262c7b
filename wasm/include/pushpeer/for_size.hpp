// Code that is not hot (a few calls per connection, or glue) is compiled for size: between PUSHPEER_FOR_SIZE_BEGIN
// and PUSHPEER_FOR_SIZE_END every function gets Clang's minsize (the Wasm build and the fuzzers; GCC's native build
// ignores it). The core's hot paths (P-256, hashing, AES-GCM, the SDP codec's tables) keep -O3. What it saves:
// bench/RESULTS.md, "Sizes of the core". Place BEGIN after the file's last #include.
#pragma once

#if defined(__clang__)
#define PUSHPEER_FOR_SIZE_BEGIN _Pragma("clang attribute push(__attribute__((minsize)), apply_to = function)")
#define PUSHPEER_FOR_SIZE_END _Pragma("clang attribute pop")
#else
#define PUSHPEER_FOR_SIZE_BEGIN
#define PUSHPEER_FOR_SIZE_END
#endif
