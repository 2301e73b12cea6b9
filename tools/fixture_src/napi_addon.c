/* A Node-API addon's shape: the exported registration hook, and one libc call so that the
   object needs the C library it was built for (libc.so.6 for glibc, libc.so for musl). */
#include <stdlib.h>
typedef void *napi_env;
typedef void *napi_value;
__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports) {
    (void)env;
    return getenv("NODE_ENV") ? exports : 0;
}
