/* Plain hello: needs only the oldest symbol versions of whatever glibc it targets. */
#include <stdio.h>

int main(void) {
    puts("hello from a Lambda bootstrap");
    return 0;
}
