/* A table of pointers in a position-independent executable gives relative relocations,
   which -z pack-relative-relocs stores as DT_RELR (and tags with GLIBC_ABI_DT_RELR). */
#include <stdio.h>

/* Writable and global, so the compiler cannot turn it into a table of offsets. */
const char *greetings[] = {"hello", "hallo", "bonjour", "hola", "ciao", "hej"};

int main(int argc, char **argv) {
    (void)argv;
    puts(greetings[(unsigned)argc % (sizeof greetings / sizeof greetings[0])]);
    return 0;
}
