# Third-party code: fetched at configure time by cmake/fetch-sources.sh (pinned, SHA-256 verified), never committed.
# BearSSL is always built from those sources, so native tests exercise the same crypto code as the Wasm module;
# nlohmann_json (header-only) is for the native tests' vector files, the core reads JSON itself (wasm/src/json_reader.hpp).
# libsodium and zlib come from Debian's -dev packages natively and from the sources under Emscripten.
execute_process(
  COMMAND bash ${CMAKE_SOURCE_DIR}/cmake/fetch-sources.sh ${PUSHPEER_SOURCES_DIR}
  RESULT_VARIABLE _fetch_result)
if(NOT _fetch_result EQUAL 0)
  message(FATAL_ERROR "fetching the pinned third-party sources failed (see above)")
endif()

# BearSSL 0.6: every src/**/*.c is plain portable C.
set(_bearssl ${PUSHPEER_SOURCES_DIR}/bearssl)
file(GLOB_RECURSE _bearssl_sources ${_bearssl}/src/*.c)
add_library(pp_bearssl STATIC ${_bearssl_sources})
target_include_directories(pp_bearssl SYSTEM PUBLIC ${_bearssl}/inc PRIVATE ${_bearssl}/src)
target_compile_options(pp_bearssl PRIVATE -w)

add_library(pp_json INTERFACE)
target_include_directories(pp_json SYSTEM INTERFACE ${PUSHPEER_SOURCES_DIR}/json/single_include)

if(EMSCRIPTEN)
  # libsodium 1.0.18 (Debian ships the git tree, no configure): compile the portable sources directly.
  set(_sodium ${PUSHPEER_SOURCES_DIR}/libsodium/src/libsodium)
  file(GLOB_RECURSE _sodium_sources ${_sodium}/*.c)
  list(FILTER _sodium_sources EXCLUDE REGEX "(aesni|avx|sse|ssse3|armcrypto|neon)")
  configure_file(${CMAKE_SOURCE_DIR}/cmake/sodium-version.h.in ${CMAKE_BINARY_DIR}/sodium-gen/sodium/version.h)
  add_library(pp_sodium STATIC ${_sodium_sources})
  # HAVE_WEAK_SYMBOLS: sodium_memzero becomes memset + an opaque weak call (as in libsodium's configured builds)
  # instead of a volatile byte loop, which costs ~10x more per wiped byte under Wasm. NATIVE_LITTLE_ENDIAN (Wasm is
  # little-endian; configure defines it on such targets): BLAKE2b loads its words with one load, not eight.
  target_compile_definitions(pp_sodium PUBLIC SODIUM_STATIC PRIVATE CONFIGURED=1 HAVE_WEAK_SYMBOLS=1 NATIVE_LITTLE_ENDIAN=1)
  target_include_directories(pp_sodium SYSTEM BEFORE PUBLIC ${CMAKE_BINARY_DIR}/sodium-gen ${_sodium}/include
                             PRIVATE ${CMAKE_BINARY_DIR}/sodium-gen/sodium ${_sodium}/include/sodium)
  target_compile_options(pp_sodium PRIVATE -w)

  # zlib 1.2.13 (Emscripten's own port would download it).
  set(_zlib ${PUSHPEER_SOURCES_DIR}/zlib)
  add_library(pp_zlib STATIC
    ${_zlib}/adler32.c ${_zlib}/compress.c ${_zlib}/crc32.c ${_zlib}/deflate.c ${_zlib}/infback.c
    ${_zlib}/inffast.c ${_zlib}/inflate.c ${_zlib}/inftrees.c ${_zlib}/trees.c ${_zlib}/uncompr.c ${_zlib}/zutil.c)
  target_include_directories(pp_zlib SYSTEM PUBLIC ${_zlib})
  target_compile_options(pp_zlib PRIVATE -w)
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
  add_library(pp_sodium INTERFACE)
  target_link_libraries(pp_sodium INTERFACE PkgConfig::SODIUM)
  find_package(ZLIB REQUIRED)
  add_library(pp_zlib INTERFACE)
  target_link_libraries(pp_zlib INTERFACE ZLIB::ZLIB)
endif()
