/* reallocarray() was added in glibc 2.26: exactly the provided.al2 maximum. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    (void)argv;
    int *numbers = reallocarray(NULL, (size_t)argc, sizeof *numbers);
    printf("%p\n", (void *)numbers);
    free(numbers);
    return 0;
}
