/* An executable that is fine on old glibc itself but loads libfoo.so from $ORIGIN/lib. */
#include <stdio.h>

long foo_parse(const char *text);

int main(int argc, char **argv) {
    printf("%ld\n", foo_parse(argc > 1 ? argv[1] : "0b101"));
    return 0;
}
