/* Link-time stand-in for a system library; only its soname matters (it is never shipped). */
int soname_stub(void) { return 0; }
