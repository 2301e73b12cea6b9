/* The same source built twice: against glibc >= 2.38 headers (_GNU_SOURCE turns on C23
   semantics) strtol becomes __isoc23_strtol@GLIBC_2.38; against 2.35 it stays strtol@GLIBC_2.2.5.
   What decides whether `runs-on: ubuntu-22.04` fixes a binary for provided.al2023. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    printf("%ld\n", strtol(argc > 1 ? argv[1] : "42", NULL, 0));
    return 0;
}
