# The Wasm module: wasm/bindings/*.cpp + the core, as an ES module (pushpeer-core.mjs) and its .wasm, in three
# flavours the same JS tests run against:
#   release  what the package ships: no test-only entry points
#   testing  the release build (same flags) plus wasm/bindings/testing.cpp, so vectors run on optimised code
#   debug    -sASSERTIONS=2 -sSAFE_HEAP=1, plus the testing entry points
set(PUSHPEER_WASM_OUT "${CMAKE_SOURCE_DIR}/js/wasm" CACHE PATH "Where js/core.js loads the module from")

set(_pp_link_common
  -lembind
  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createPushPeerCore
  # No Node environment code (it needs __dirname/require, absent in ES modules): js/core.js always hands the
  # module its .wasm bytes, read with fs in Node and fetch() elsewhere, so one build serves every environment.
  -sENVIRONMENT=web,worker
  -sMALLOC=emmalloc -sFILESYSTEM=0 -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=1048576 -sTOTAL_STACK=262144
  -sDYNAMIC_EXECUTION=0
  -sEXPORTED_FUNCTIONS=_malloc,_free
  -sEXPORTED_RUNTIME_METHODS=HEAPU8
  -sINCOMING_MODULE_JS_API=wasmBinary,locateFile,instantiateWasm,getRandomValue,print,printErr,onAbort)

set(_pp_bindings ${CMAKE_SOURCE_DIR}/wasm/bindings/core.cpp ${CMAKE_SOURCE_DIR}/wasm/bindings/signaling.cpp
                 ${CMAKE_SOURCE_DIR}/wasm/bindings/content.cpp)
set(_pp_testing_bindings ${CMAKE_SOURCE_DIR}/wasm/bindings/testing.cpp)

function(pushpeer_wasm_module name sources)
  add_executable(${name} ${sources})
  target_link_libraries(${name} PRIVATE pushpeer_core)
  target_compile_options(${name} PRIVATE -fno-exceptions)
  set_target_properties(${name} PROPERTIES SUFFIX ".mjs" RUNTIME_OUTPUT_DIRECTORY ${PUSHPEER_WASM_OUT})
  target_link_options(${name} PRIVATE ${_pp_link_common} ${ARGN})
  # em++ finds Closure through EM_CLOSURE_COMPILER (Debian's Emscripten has none of its own).
  set_target_properties(${name} PROPERTIES CXX_LINKER_LAUNCHER "${CMAKE_COMMAND};-E;env;EM_CLOSURE_COMPILER=${_pp_closure}")
endfunction()

# Closure Compiler (ADVANCED) on the release and testing loaders: 9.7 -> 6.8 KB gzip, and Emscripten then also
# shortens the module's import and export names (bench/RESULTS.md, "Sizes"). The compiler is the pinned npm
# devDependency google-closure-compiler-linux (the native build; the wrapper package would also want macOS and
# Windows builds this registry does not have); cmake/closure-externs.js keeps what it must not
# rename. The testing flavour runs every JS test on the same compiled loader.
set(_pp_closure ${CMAKE_SOURCE_DIR}/node_modules/google-closure-compiler-linux/compiler)
if(NOT EXISTS ${_pp_closure})
  message(FATAL_ERROR "${_pp_closure} is missing: run npm ci (cmake/setup.sh does)")
endif()
set(_pp_release_flags -O3 -flto --closure 1 "--closure-args=--externs ${CMAKE_SOURCE_DIR}/cmake/closure-externs.js")
# bench/sizes.mjs attributes the release module's bytes to their sources: a build tree configured with
# -DPUSHPEER_WASM_NAMES=ON keeps function names in it (bench/run.sh makes one in build/wasm-names).
option(PUSHPEER_WASM_NAMES "Keep function names in the release module (size breakdown only)" OFF)
if(PUSHPEER_WASM_NAMES)
  list(APPEND _pp_release_flags --profiling-funcs)
endif()
pushpeer_wasm_module(pushpeer-core "${_pp_bindings}" ${_pp_release_flags})
pushpeer_wasm_module(pushpeer-core-testing "${_pp_bindings};${_pp_testing_bindings}" ${_pp_release_flags})
pushpeer_wasm_module(pushpeer-core-debug "${_pp_bindings};${_pp_testing_bindings}" -O1 -sASSERTIONS=2 -sSAFE_HEAP=1
                     -sSTACK_OVERFLOW_CHECK=2)
find_program(PUSHPEER_NODE node REQUIRED)
add_custom_command(TARGET pushpeer-core-debug POST_BUILD
  COMMAND ${PUSHPEER_NODE} ${CMAKE_SOURCE_DIR}/cmake/patch-debug-loader.mjs ${PUSHPEER_WASM_OUT}/pushpeer-core-debug.mjs
  VERBATIM)
