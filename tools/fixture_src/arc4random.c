/* arc4random() was added in glibc 2.36. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    printf("%u\n", arc4random());
    return 0;
}
