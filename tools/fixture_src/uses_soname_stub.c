/* An executable whose DT_NEEDED names the stub libraries it was linked against. */
int soname_stub(void);

int main(void) { return soname_stub(); }
