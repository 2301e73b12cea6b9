/* An executable that needs a libssl the Lambda runtime may not have. */
#include <stdio.h>

int OPENSSL_init_ssl(unsigned long long opts, const void *settings);

int main(void) {
    printf("%d\n", OPENSSL_init_ssl(0, NULL));
    return 0;
}
