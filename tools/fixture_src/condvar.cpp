// std::condition_variable::wait got a new symbol version in GCC 12 (GLIBCXX_3.4.30),
// so a program built with g++ 12+ needs a libstdc++ at least that new.
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

int main() {
    std::mutex mutex;
    std::condition_variable ready_signal;
    bool ready = false;
    std::thread worker([&] {
        std::lock_guard<std::mutex> guard(mutex);
        ready = true;
        ready_signal.notify_one();
    });
    {
        std::unique_lock<std::mutex> lock(mutex);
        ready_signal.wait(lock, [&] { return ready; });
    }
    worker.join();
    std::puts("ready");
    return 0;
}
