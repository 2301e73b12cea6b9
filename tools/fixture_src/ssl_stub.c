/* Link-time stand-in for OpenSSL's libssl; only its soname and symbol version matter. */
int OPENSSL_init_ssl(unsigned long long opts, const void *settings) {
    (void)opts;
    (void)settings;
    return 1;
}
