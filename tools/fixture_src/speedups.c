/* A CPython extension module without Python headers: PyInit__speedups is all the
   interpreter looks for. fcntl64 was added in glibc 2.28 (manylinux_2_28). */
#define _GNU_SOURCE
#include <fcntl.h>

typedef struct PyModuleDef PyModuleDef;
extern void *PyModule_Create2(PyModuleDef *def, int api_version);

static char module_def[128]; /* stands in for a filled-in PyModuleDef */

void *PyInit__speedups(void) {
    if (fcntl64(0, F_GETFD) < 0)
        return 0;
    return PyModule_Create2((PyModuleDef *)module_def, 1013);
}
