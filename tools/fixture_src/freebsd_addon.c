/* A Node-API addon's shape, built for FreeBSD: exports napi_register_module_v1 and calls
 * libc (libc.so.7, FBSD_1.0). Only the OS it is built for matters to the tests. */
#include <stdio.h>
#include <string.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
    (void)env;
    printf("loaded (%zu)\n", strlen("freebsd"));
    return exports;
}
