/*
 * bcrypt_hash.c - prints the bcrypt hash of a password for the web
 * configuration tests, with libcrypt (what sonde verifies with), so that the
 * tests need neither python's deprecated crypt module nor apache2-utils.
 * Usage: bcrypt_hash PASSWORD [COST]
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bcrypt_hash PASSWORD [COST]\n");
        return 2;
    }
    unsigned long cost = argc == 3 ? strtoul(argv[2], NULL, 10) : 10;
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data data;
    memset(&data, 0, sizeof(data));
    if (!crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof(salt))) {
        perror("crypt_gensalt_rn");
        return 1;
    }
    const char *hash = crypt_rn(argv[1], salt, &data, sizeof(data));
    if (!hash) {
        perror("crypt_rn");
        return 1;
    }
    printf("%s\n", hash);
    return 0;
}
