/* close_range() was added in glibc 2.34 (close_range@GLIBC_2.34). */
#define _GNU_SOURCE
#include <unistd.h>

int main(void) {
    return close_range(3, ~0U, 0);
}
