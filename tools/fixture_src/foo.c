/* libfoo.so: a bundled shared library whose own code needs glibc 2.38. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

long foo_parse(const char *text) {
    char digits[32];
    strlcpy(digits, text, sizeof digits);
    return strtol(digits, NULL, 0);
}
