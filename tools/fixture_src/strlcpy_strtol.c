/* The classic ubuntu-latest failure: strlcpy@GLIBC_2.38, and strtol redirected to
   __isoc23_strtol@GLIBC_2.38 because _GNU_SOURCE turns on the C23 strtol semantics. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    char digits[32];
    strlcpy(digits, argc > 1 ? argv[1] : "0b101010", sizeof digits);
    printf("%ld\n", strtol(digits, NULL, 0));
    return 0;
}
