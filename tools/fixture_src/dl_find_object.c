/* _dl_find_object() was added in glibc 2.35; newer libgcc unwinders call it. */
#define _GNU_SOURCE
#include <dlfcn.h>

int main(void) {
    struct dl_find_object found;
    return _dl_find_object((void *)main, &found);
}
