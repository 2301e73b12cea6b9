/* A weak reference to strlcpy (glibc 2.38). The symbol is weak, but the linker still
   writes a non-weak GLIBC_2.38 version need, so ld.so refuses to load it on older glibc. */
#include <stddef.h>
#include <stdio.h>

extern size_t strlcpy(char *dst, const char *src, size_t size) __attribute__((weak));

int main(void) {
    char text[16] = "fallback";
    if (strlcpy)
        strlcpy(text, "strlcpy", sizeof text);
    puts(text);
    return 0;
}
