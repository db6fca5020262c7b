# The Wasm module: wasm/bindings.cpp + the core, as an ES module (pushpeer-core.mjs) and its .wasm, in a release
# flavour and a debug flavour (-sASSERTIONS=2 -sSAFE_HEAP=1) that the same JS tests run against.
set(PUSHPEER_WASM_OUT "${CMAKE_SOURCE_DIR}/js/wasm" CACHE PATH "Where js/core.js loads the module from")

set(_pp_link_common
  -lembind
  -sMODULARIZE=1 -sEXPORT_ES6=1 -sEXPORT_NAME=createPushPeerCore
  # No Node environment code (it needs __dirname/require, absent in ES modules): js/core.js always hands the
  # module its .wasm bytes, read with fs in Node and fetch() elsewhere, so one build serves every environment.
  -sENVIRONMENT=web,worker
  -sFILESYSTEM=0 -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=1048576 -sTOTAL_STACK=262144
  -sDYNAMIC_EXECUTION=0
  -sEXPORTED_FUNCTIONS=_malloc,_free
  -sEXPORTED_RUNTIME_METHODS=HEAPU8
  -sINCOMING_MODULE_JS_API=wasmBinary,locateFile,instantiateWasm,getRandomValue,print,printErr,onAbort)

function(pushpeer_wasm_module name)
  add_executable(${name} ${CMAKE_SOURCE_DIR}/wasm/bindings.cpp)
  target_link_libraries(${name} PRIVATE pushpeer_core)
  target_compile_options(${name} PRIVATE -fno-exceptions)
  set_target_properties(${name} PROPERTIES SUFFIX ".mjs" RUNTIME_OUTPUT_DIRECTORY ${PUSHPEER_WASM_OUT})
  target_link_options(${name} PRIVATE ${_pp_link_common} ${ARGN})
endfunction()

pushpeer_wasm_module(pushpeer-core -O3 -flto)
pushpeer_wasm_module(pushpeer-core-debug -O1 -sASSERTIONS=2 -sSAFE_HEAP=1 -sSTACK_OVERFLOW_CHECK=2)
find_program(PUSHPEER_NODE node REQUIRED)
add_custom_command(TARGET pushpeer-core-debug POST_BUILD
  COMMAND ${PUSHPEER_NODE} ${CMAKE_SOURCE_DIR}/cmake/patch-debug-loader.mjs ${PUSHPEER_WASM_OUT}/pushpeer-core-debug.mjs
  VERBATIM)
