// Names Closure Compiler must not rename in the release loader (cmake/Wasm.cmake: --closure 1): libsodium's
// randombytes reads Module.getRandomValue, which js/core.js hands in (batched crypto.getRandomValues), and its Node
// fallback names require, which our loader never reaches (js/core.js always hands getRandomValue in).
var require = function (name) {};
var pushpeerModuleInputs = {};
pushpeerModuleInputs.getRandomValue = function () {};
