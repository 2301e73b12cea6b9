// A Node-API addon built with g++ 12: node looks for napi_register_module_v1, and the
// condition_variable wait pulls in GLIBCXX_3.4.30 from the system libstdc++.
#include <condition_variable>
#include <mutex>

extern "C" {
typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
int napi_create_uint32(napi_env env, unsigned value, napi_value *result);
}

static std::mutex mutex;
static std::condition_variable ready_signal;
// Exported, so the compiler cannot prove the wait away.
extern "C" bool addon_ready = true;

extern "C" napi_value napi_register_module_v1(napi_env env, napi_value exports) {
    {
        std::unique_lock<std::mutex> lock(mutex);
        ready_signal.wait(lock, [] { return addon_ready; });
    }
    napi_value answer;
    napi_create_uint32(env, 42, &answer);
    return exports;
}
